// Seed 002 (ulearnandearn): the documented client flow against a bridge listener with the `ulearn` dialect.
// REST under /api/chat with Bearer and {success, data, pagination}; sockets with auth.token, `message:sent`.
import { env, step, connect, waitFor, expectHttp, bearer, check, sameId, done } from './lib.mjs';

const { a, b } = env;
const open = (who) => connect({ auth: { token: who.token } });

// §REST: GET /conversation/:participantId — get or create
const conv = await step('get or create conversation (REST)', async () => {
  const res = await expectHttp(200, 'GET', `/api/chat/conversation/${encodeURIComponent(b.user)}`, { auth: bearer(a) });
  check(res.json?.success === true && res.json.data?._id, 'not {success, data}', res.json);
  return res.json.data;
});
const conversationId = conv._id;

const sa = await step('A connects', () => open(a));
const aSeesB = waitFor(sa, 'user:online', (p) => sameId(p?.userId, b.user));
const sb = await step('B connects', () => open(b));
await step('A sees user:online for B', () => aSeesB);

await step('both join the conversation', async () => {
  sa.emit('join:conversation', { conversationId });
  sb.emit('join:conversation', { conversationId });
  await new Promise((r) => setTimeout(r, 300));
});

await step('typing:start / typing:stop reach the other side', async () => {
  const on = waitFor(sb, 'typing:start', (p) => sameId(p?.userId, a.user));
  sa.emit('typing:start', { conversationId });
  await on;
  const off = waitFor(sb, 'typing:stop', (p) => sameId(p?.userId, a.user));
  sa.emit('typing:stop', { conversationId });
  await off;
});

// send:message → message:sent (confirmation) to A, new:message {message} to the room
const sent = await step('send:message, message:sent and new:message', async () => {
  const confirmed = waitFor(sa, 'message:sent', (p) => p?.messageId);
  const atB = waitFor(sb, 'new:message', (d) => d?.message?.text === 'Hello!');
  sa.emit('send:message', { conversationId, text: 'Hello!', messageType: 'text' });
  const [ack, data] = await Promise.all([confirmed, atB]);
  check(sameId(ack.messageId, data.message._id), 'message:sent and new:message disagree', { ack, data });
  check(sameId(data.message.senderId?._id, a.user), 'senderId is not A', data.message);
  return data.message;
});

// message:read {messageIds, conversationId} → messages:read {messageIds, readBy}
await step('read receipt', async () => {
  const seen = waitFor(sa, 'messages:read', (p) => sameId(p?.readBy, b.user));
  sb.emit('message:read', { messageIds: [sent._id], conversationId });
  await seen;
});

// A read receipt names every message it newly covers: B reads up to the newest of three, A hears all three.
await step('a read covering three messages names all three', async () => {
  const ids = [];
  for (const text of ['one', 'two', 'three']) {
    const atB = waitFor(sb, 'new:message', (d) => d?.message?.text === text);
    sa.emit('send:message', { conversationId, text, messageType: 'text' });
    ids.push(String((await atB).message._id));
  }
  const seen = waitFor(sa, 'messages:read', (p) => sameId(p?.readBy, b.user) && p?.messageIds?.map(String).includes(ids[2]));
  sb.emit('message:read', { messageIds: [ids[2]], conversationId });
  const read = await seen;
  check(JSON.stringify(read.messageIds.map(String)) === JSON.stringify(ids), 'messages:read does not name all three', { read, ids });
  return { messageIds: read.messageIds };
});

await step('history (REST, page/limit)', async () => {
  const res = await expectHttp(200, 'GET', `/api/chat/conversation/${conversationId}/messages`, {
    auth: bearer(b),
    query: { page: 1, limit: 50 },
  });
  check(res.json?.data?.some((m) => sameId(m._id, sent._id)), 'message not in history', res.json);
  check(
    res.json.pagination?.page === 1 && res.json.pagination.limit === 50 && typeof res.json.pagination.total === 'number',
    'pagination shape',
    res.json.pagination,
  );
});

const restSent = await step('send over REST and B receives new:message', async () => {
  const atB = waitFor(sb, 'new:message', (d) => d?.message?.text === 'Over REST');
  const res = await expectHttp([200, 201], 'POST', '/api/chat/message', {
    auth: bearer(a),
    body: { conversationId, text: 'Over REST', messageType: 'text' },
  });
  await atB;
  return res.json.data;
});

await step('mark read and unread count (REST)', async () => {
  await expectHttp(200, 'POST', '/api/chat/messages/read', { auth: bearer(b), body: { conversationId } });
  const res = await expectHttp(200, 'GET', '/api/chat/unread-count', { auth: bearer(b) });
  check(typeof res.json?.data?.unreadCount === 'number', 'no data.unreadCount', res.json);
});

await step('delete for everyone (REST) and B sees message:deleted', async () => {
  const gone = waitFor(sb, 'message:deleted', (p) => sameId(p?.messageId, restSent._id));
  await expectHttp(200, 'DELETE', `/api/chat/message/${restSent._id}`, { auth: bearer(a), body: { deleteForEveryone: true } });
  await gone;
});

await step('A sees user:offline for B', async () => {
  const seen = waitFor(sa, 'user:offline', (p) => sameId(p?.userId, b.user), env.timeout + 10000);
  sb.close();
  await seen;
});

done();
