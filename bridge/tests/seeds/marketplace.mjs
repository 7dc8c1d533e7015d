// Seed 004 (marketplace with notifications): the documented client flow against a bridge listener with the
// `marketplace` dialect. The seed documents sockets only; conversations, messages, read marks and deletes
// come from the app's backend — here the bridge's canonical REST (/api/v1), as in docs/DIALECTS.md.
import { env, step, connect, waitFor, emitWithAck, canonical, expectHttp, bearer, check, sameId, done } from './lib.mjs';

const { a, b } = env;
const open = (who) => connect({ auth: { token: who.token }, path: '/socket.io/' });

const conversationId = await step('conversation (canonical REST)', async () => (await canonical.openDirect(a, b)).id);

const sa = await step('A connects', () => open(a));
const aSeesB = waitFor(sa, 'user:status-changed', (p) => sameId(p?.userId, b.user) && p.status === 'online');
const sb = await step('B connects', () => open(b));
await step('A sees user:status-changed online for B', () => aSeesB);

await step('both join the conversation (bare id)', async () => {
  sa.emit('join:conversation', conversationId);
  sb.emit('join:conversation', conversationId);
  await new Promise((r) => setTimeout(r, 300));
});

await step('presence callbacks', async () => {
  const online = await emitWithAck(sa, 'conversation:get-online-users', conversationId);
  check(Array.isArray(online) && online.map(String).includes(b.user), 'online users', online);
  const one = await emitWithAck(sa, 'user:get-status', b.user);
  check(sameId(one?.userId, b.user) && one.status === 'online', 'user:get-status', one);
  const many = await emitWithAck(sa, 'users:get-status', [a.user, b.user]);
  check(Array.isArray(many) && many.length === 2 && many.every((s) => ['online', 'offline'].includes(s.status)), 'users:get-status', many);
});

await step('typing:start / typing:stop', async () => {
  const on = waitFor(sb, 'typing:start', (p) => sameId(p?.userId, a.user) && sameId(p.conversationId, conversationId));
  sa.emit('typing:start', { conversationId });
  await on;
  const off = waitFor(sb, 'typing:stop', (p) => sameId(p?.userId, a.user));
  sa.emit('typing:stop', { conversationId });
  await off;
});

const sent = await step('a message reaches B as message:new', async () => {
  const atB = waitFor(sb, 'message:new', (m) => m?.content === 'Is it still available?');
  const stored = await canonical.send(a, conversationId, 'Is it still available?');
  const m = await atB;
  check(sameId(m.id, stored.id) && sameId(m.senderId, a.user) && sameId(m.conversationId, conversationId), 'message:new', m);
  return m;
});

// §Backend Utilities, each one call to quipd's admin API (docs/DIALECTS.md): sendToUser(userId,
// 'custom:event', data) reaches A's socket under that name; isUserOnline(userId).
await step('backend utilities: sendToUser and isUserOnline', async () => {
  const admin = (method, path, body) =>
    fetch(`${process.env.ADMIN_URL}${path}`, {
      method,
      headers: { authorization: `Bearer ${process.env.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, json: await r.json() }));
  const got = waitFor(sa, 'custom:event', (d) => d?.orderId === 'o-77');
  const sent = await admin('POST', `/v1/users/${a.user}/events`, { event: 'custom:event', data: { orderId: 'o-77', status: 'shipped' } });
  check(sent.status === 200 && sent.json?.data?.sessions >= 1, 'the event reached no session', sent);
  const d = await got;
  check(d.status === 'shipped', 'custom:event data', d);
  const online = await admin('GET', `/v1/users/${a.user}/sessions`);
  check(online.json?.data?.online === true, 'isUserOnline', online.json);
  const nobody = await admin('GET', '/v1/users/nobody-at-all/sessions');
  check(nobody.json?.data?.online === false, 'isUserOnline for a user never seen', nobody.json);
});

// §Migration from Polling: GET /api/messages/unread-count → {unreadCount}
await step('the polling route counts B\'s unread message', async () => {
  const res = await expectHttp(200, 'GET', '/api/messages/unread-count', { auth: bearer(b) });
  check(res.json?.unreadCount === 1, 'unreadCount is not 1', res.json);
});

await step('read: A sees messages:read', async () => {
  const seen = waitFor(sa, 'messages:read', (p) => sameId(p?.conversationId, conversationId));
  await canonical.read(b, conversationId);
  await seen;
});

await step('delete: B sees message:deleted', async () => {
  const gone = waitFor(sb, 'message:deleted', (p) => sameId(p?.messageId, sent.id));
  await canonical.deleteMessage(a, sent.id);
  const p = await gone;
  check(sameId(p.conversationId, conversationId), 'message:deleted', p);
});

// §2 Notifications: reads sync across the user's devices
await step('notifications:read-all reaches A\'s other device', async () => {
  const a2 = await open(a);
  const synced = waitFor(a2, 'notifications:read-all', () => true);
  sa.emit('notifications:read-all');
  await synced;
  a2.close();
});

await step('A sees user:status-changed offline for B', async () => {
  const seen = waitFor(sa, 'user:status-changed', (p) => sameId(p?.userId, b.user) && p.status === 'offline', env.timeout + 10000);
  sb.close();
  await seen;
});

done();
