// Shared helpers of the seed flows: environment, socket.io-client v4, fetch, steps that print JSON.
// See README.md. Every helper rejects (and the flow exits 1) on a timeout or an unexpected answer.
import { createRequire } from 'node:module';

// socket.io-client comes from bridge/tests/js/node_modules (the core's package.json owns the version).
const require = createRequire(new URL('../js/package.json', import.meta.url));
const { io } = require(process.env.SOCKET_IO_CLIENT || 'socket.io-client');

export const env = (() => {
  const need = ['BRIDGE_URL', 'TOKEN_A', 'TOKEN_B', 'USER_A', 'USER_B'];
  const missing = need.filter((k) => !process.env[k]);
  if (missing.length) {
    console.log(JSON.stringify({ ok: false, error: `missing environment: ${missing.join(', ')}` }));
    process.exit(2);
  }
  return {
    url: process.env.BRIDGE_URL.replace(/\/$/, ''),
    a: { token: process.env.TOKEN_A, user: process.env.USER_A },
    b: { token: process.env.TOKEN_B, user: process.env.USER_B },
    timeout: Number(process.env.STEP_TIMEOUT_MS || 10000),
    // quipd does not implement every request yet (PROTOCOL.md §5): with ALLOW_501=1 a 501 answer is
    // reported as `unimplemented` instead of failing the flow.
    allow501: process.env.ALLOW_501 === '1',
  };
})();

const started = Date.now();
const sockets = [];

export function log(record) {
  let line;
  try {
    line = JSON.stringify({ t: Date.now() - started, ...record });
  } catch {
    // A step's result that is not plain data (a socket) is left out of the log.
    const { result, ...rest } = record;
    line = JSON.stringify({ t: Date.now() - started, ...rest, result: String(result) });
  }
  console.log(line);
}

export function fail(message, detail) {
  log({ ok: false, error: message, detail });
  for (const s of sockets) s.close();
  process.exit(1);
}

export function check(condition, message, detail) {
  if (!condition) throw Object.assign(new Error(message), { detail });
}

/** Runs one step of the flow; prints `{step, ok}` or fails the whole run. */
export async function step(name, fn) {
  const t0 = Date.now();
  try {
    const result = await fn();
    log({ step: name, ok: true, ms: Date.now() - t0, ...(result === undefined ? {} : { result }) });
    return result;
  } catch (e) {
    fail(`${name}: ${e.message}`, e.detail);
  }
}

/** Opens a socket with the seed's client options and waits for `connect`. */
export function connect(options = {}) {
  const socket = io(env.url, { transports: ['websocket', 'polling'], reconnection: false, ...options });
  sockets.push(socket);
  if (options.autoConnect === false) socket.connect();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connect timed out')), env.timeout);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('connect_error', (e) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`connect_error: ${e.message}`), { detail: e.data }));
    });
  });
}

/** The next `event` on `socket` whose payload satisfies `pred` (listen BEFORE causing it). */
export function waitFor(socket, event, pred = () => true, timeout = env.timeout) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`no ${event} within ${timeout} ms`));
    }, timeout);
    function handler(...args) {
      let matched = false;
      try {
        matched = pred(...args);
      } catch {
        matched = false;
      }
      if (matched) {
        clearTimeout(timer);
        socket.off(event, handler);
        resolve(args.length <= 1 ? args[0] : args);
      }
    }
    socket.on(event, handler);
  });
}

/** `socket.emit(event, ...args, callback)` as a promise of the callback's argument. */
export function emitWithAck(socket, event, ...args) {
  return socket.timeout(env.timeout).emitWithAck(event, ...args);
}

/** A REST call; `auth` is a header object (the seed's way of sending the token). */
export async function http(method, path, { auth = {}, body, query } = {}) {
  const url = new URL(env.url + path);
  for (const [k, v] of Object.entries(query || {})) url.searchParams.set(k, String(v));
  const headers = { ...auth };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

/** A REST call that must answer `expected` (a status or a list of them). */
export async function expectHttp(expected, method, path, options) {
  const res = await http(method, path, options);
  const ok = [].concat(expected);
  if (res.status === 501 && env.allow501) return { ...res, unimplemented: true };
  check(ok.includes(res.status), `${method} ${path} answered ${res.status}, expected ${ok.join('|')}`, res.json);
  return res;
}

export const bearer = (who) => ({ authorization: `Bearer ${who.token}` });

/**
 * The bridge's canonical REST (docs/BRIDGE.md), for what a seed does not document (seed 004 has no REST
 * API; seed 003 does not say how rooms are created). Paths can be moved with CANONICAL_API.
 */
export const canonical = {
  base: process.env.CANONICAL_API || '/api/v1',
  async openDirect(who, peer) {
    const res = await expectHttp([200, 201], 'POST', `${this.base}/conversations`, {
      auth: bearer(who),
      body: { type: 'direct', peerUserId: peer.user },
    });
    const data = res.json?.data ?? res.json;
    const conversation = data?.conversation ?? data;
    check(conversation?.id !== undefined, 'no conversation id in the answer', res.json);
    return conversation;
  },
  async send(who, conversationId, text) {
    const res = await expectHttp(201, 'POST', `${this.base}/conversations/${conversationId}/messages`, {
      auth: bearer(who),
      body: { text },
    });
    return res.json?.data ?? res.json;
  },
  async read(who, conversationId) {
    return expectHttp([200, 204], 'POST', `${this.base}/conversations/${conversationId}/read`, { auth: bearer(who), body: {} });
  },
  async deleteMessage(who, messageId) {
    return expectHttp([200, 204], 'DELETE', `${this.base}/messages/${messageId}`, {
      auth: bearer(who),
      query: { scope: 'everyone' },
    });
  },
};

export const sameId = (x, y) => x !== undefined && y !== undefined && String(x) === String(y);

export function done() {
  log({ ok: true, done: true });
  for (const s of sockets) s.close();
  process.exit(0);
}
