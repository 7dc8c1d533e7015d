// Seed 001 (Jivbook): the documented client flow against a bridge listener with the `jivbook` dialect.
// REST under /api/chat with Bearer and {success, message, data}; sockets with auth.token, camelCase events.
import { env, step, connect, waitFor, expectHttp, bearer, check, sameId, done } from './lib.mjs';

const { a, b } = env;
const open = (who) => connect({ auth: { token: who.token }, transports: ['websocket', 'polling'] });

// §REST 1. Create or Get Chat
const chat = await step('create or get chat (REST)', async () => {
  const res = await expectHttp([200, 201], 'POST', '/api/chat/create', { auth: bearer(a), body: { participantId: b.user } });
  check(res.json?.success === true && res.json.data?._id, 'not {success, data: chat}', res.json);
  check(res.json.data.participants?.some((p) => sameId(p._id, b.user)), 'B is not a participant', res.json);
  return res.json.data;
});
const chatId = chat._id;

// §Token refresh handling: `if (error.message === 'Authentication error')` the client refreshes its token.
await step('a refused handshake says exactly "Authentication error"', async () => {
  for (const token of ['not-a-jwt', `${a.token}x`]) {
    const refused = await connect({ auth: { token }, transports: ['websocket'] }).then(
      (s) => { s.close(); return 'connected'; },
      (e) => e.message,
    );
    check(refused === 'connect_error: Authentication error', 'not the seed\'s message', { token, refused });
  }
  const none = await connect({ transports: ['websocket'] }).then((s) => { s.close(); return 'connected'; }, (e) => e.message);
  check(none === 'connect_error: Authentication error', 'no token: not the seed\'s message', none);
});

// §Socket Events 1. Online Status: socket.emit('online') after connecting
const sa = await step('A connects and goes online', async () => {
  const s = await open(a);
  s.emit('online');
  return s;
});
const sb = await step('B connects and goes online', async () => {
  const s = await open(b);
  s.emit('online');
  return s;
});

// §OLX-Style Features 3: join-chat {chatId}
await step('both join the chat', async () => {
  sa.emit('join-chat', { chatId });
  sb.emit('join-chat', { chatId });
  await new Promise((r) => setTimeout(r, 300));
});

// §Socket Events 1. Typing Indicator: typing {chatId, isTyping} both ways
await step('typing reaches the other side', async () => {
  const on = waitFor(sb, 'typing', (p) => sameId(p?.userId, a.user) && p.isTyping === true);
  sa.emit('typing', { chatId, isTyping: true });
  await on;
  const off = waitFor(sb, 'typing', (p) => sameId(p?.userId, a.user) && p.isTyping === false);
  sa.emit('typing', { chatId, isTyping: false });
  await off;
});

// §Socket Events 2. Send Message / Receive Message: sendMessage → newMessage to all participants
const sent = await step('send over the socket and B receives newMessage', async () => {
  const content = 'Hello! Is this pet still available?';
  const atB = waitFor(sb, 'newMessage', (m) => m?.content === content);
  sa.emit('sendMessage', { chatId, content, messageType: 'text', mediaUrl: null, parentMessageId: null });
  const m = await atB;
  check(m._id && sameId(m.chat, chatId) && sameId(m.sender?._id, a.user), 'newMessage shape', m);
  check(m.messageType === 'text' && m.createdAt, 'newMessage fields', m);
  return m;
});

// §Socket Events 2. Mark as Read: markAsRead {chatId, messageId} → messageRead {messageId, userId}
await step('read receipt', async () => {
  const seen = waitFor(sa, 'messageRead', (p) => sameId(p?.userId, b.user));
  sb.emit('markAsRead', { chatId, messageId: sent._id });
  const p = await seen;
  return { messageId: p.messageId ?? null };
});

// §REST 3. Get Chat Messages ?page=1&limit=50
await step('history (REST, page/limit)', async () => {
  const res = await expectHttp(200, 'GET', `/api/chat/${chatId}/messages`, { auth: bearer(b), query: { page: 1, limit: 50 } });
  const data = res.json?.data;
  check(data?.messages?.some((m) => sameId(m._id, sent._id)), 'message not in history', res.json);
  check(
    data.pagination?.currentPage === 1 && 'hasMore' in data.pagination && typeof data.pagination.totalMessages === 'number',
    'pagination shape',
    data.pagination,
  );
});

// §REST 4. Send Text Message → newMessage at B
const restSent = await step('send over REST and B receives newMessage', async () => {
  const atB = waitFor(sb, 'newMessage', (m) => m?.content === 'Test message');
  const res = await expectHttp([200, 201], 'POST', `/api/chat/${chatId}/send`, {
    auth: bearer(a),
    body: { content: 'Test message', messageType: 'text' },
  });
  check(res.json?.success === true && res.json.data?._id, 'not {success, data: message}', res.json);
  await atB;
  return res.json.data;
});

// §REST 2 and 6: my chats, mark read
await step('my chats and mark-read (REST)', async () => {
  const res = await expectHttp(200, 'GET', '/api/chat/my-chats', { auth: bearer(b), query: { page: 1, limit: 20 } });
  check(res.json?.data?.chats?.some((c) => sameId(c._id, chatId)), 'chat not listed', res.json);
  check(res.json.data.pagination?.currentPage === 1, 'pagination shape', res.json.data.pagination);
  const read = await expectHttp(200, 'PUT', `/api/chat/${chatId}/mark-read`, { auth: bearer(b) });
  check(read.json?.success === true, 'mark-read failed', read.json);
});

// §REST 7. Delete Message (soft)
await step('delete a message (REST)', async () => {
  const res = await expectHttp(200, 'DELETE', `/api/chat/message/${restSent._id}`, { auth: bearer(a) });
  check(res.json?.success === true, 'delete failed', res.json);
});

// Presence: the seed documents no presence event to clients (only `online`, sent above).
done();
