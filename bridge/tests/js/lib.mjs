// Helpers for the end-to-end scripts: connect, call with ack, wait for an event. Every failure exits
// non-zero with a message on stderr; results go to stdout as one JSON line.
import { io } from "socket.io-client";

export const URL = process.env.BRIDGE_URL;
const TIMEOUT = 10000;

export function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

export function check(condition, message) {
  if (!condition) fail(message);
}

// Opens a socket and resolves with it and its `session` event once connected; rejects with the
// connect_error's message. `setup` gets the socket before anything arrives (to register listeners).
export function connect(opts = {}, setup = () => {}) {
  const socket = io(URL, { reconnection: false, forceNew: true, transports: ["websocket"], timeout: TIMEOUT, ...opts });
  setup(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no session event in time")), TIMEOUT);
    socket.once("session", (session) => {
      clearTimeout(timer);
      resolve({ socket, session });
    });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
  });
}

// Emits `event` with an ack callback and resolves with the ack ({success, data} or {success: false, error}).
export function call(socket, event, payload) {
  return socket.timeout(TIMEOUT).emitWithAck(event, payload);
}

// Calls and fails the script unless the ack is a success; resolves with its data.
export async function ok(socket, event, payload) {
  const ack = await call(socket, event, payload);
  check(ack && ack.success === true, `${event} failed: ${JSON.stringify(ack)}`);
  return ack.data;
}

// Resolves with the first `event` whose payload satisfies `pred`.
export function waitFor(socket, event, pred = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`no ${event} in time`));
    }, TIMEOUT);
    function handler(payload) {
      if (pred(payload)) {
        clearTimeout(timer);
        socket.off(event, handler);
        resolve(payload);
      }
    }
    socket.on(event, handler);
  });
}

export function done(result) {
  console.log(JSON.stringify(result));
  process.exit(0);
}

export function run(main) {
  main().then(done, (e) => fail(e && e.stack ? e.stack : String(e)));
}
