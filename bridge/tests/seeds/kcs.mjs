// Seed 003 (KCS school chat): the documented client flow against a bridge listener with the `kcs` dialect.
// Messages go over REST (/api/v1/chat, Bearer) and come back as `{type, data, timestamp}` envelopes; the
// socket answers requests with reply events. The seed does not say how rooms are created: the room is made
// with the bridge's canonical REST (as the school's backend would), then found in GET /api/v1/chat/rooms.
import { env, step, connect, waitFor, expectHttp, bearer, canonical, check, sameId, done } from './lib.mjs';

const { a, b } = env;
const open = (who) => connect({ auth: { token: who.token }, transports: ['websocket', 'polling'], reconnection: false });

const roomId = await step('a room exists for A and B (canonical REST)', async () => String((await canonical.openDirect(a, b)).id));

await step('GET /api/v1/chat/rooms lists it', async () => {
  const res = await expectHttp(200, 'GET', '/api/v1/chat/rooms', { auth: bearer(a) });
  check(res.json?.success === true && res.json.data?.some((r) => sameId(r.id, roomId)), 'room not listed', res.json);
});

const sa = await step('A connects', () => open(a));
const sb = await step('B connects', () => open(b));

// §1. join-chat-rooms → chat-rooms-joined
await step('both join their rooms', async () => {
  for (const s of [sa, sb]) {
    const joined = waitFor(s, 'chat-rooms-joined', (p) => p?.success === true);
    s.emit('join-chat-rooms', { roomIds: [roomId] });
    const p = await joined;
    check(p.rooms?.map(String).includes(roomId), 'room not in chat-rooms-joined', p);
  }
});

// §3. chat-typing → chat-user-typing
await step('typing reaches the other side', async () => {
  const on = waitFor(sb, 'chat-user-typing', (p) => sameId(p?.userId, a.user) && p.isTyping === true);
  sa.emit('chat-typing', { roomId, isTyping: true });
  const p = await on;
  check(sameId(p.roomId, roomId) && (p.userName === (process.env.NAME_A ?? p.userName)), 'chat-user-typing names the typer', p);
  const off = waitFor(sb, 'chat-user-typing', (p) => sameId(p?.userId, a.user) && p.isTyping === false);
  sa.emit('chat-typing', { roomId, isTyping: false });
  await off;
});

// §2. Send via REST → new-chat-message {type: 'new_message', data, timestamp}
const sent = await step('send (REST) and B receives new-chat-message', async () => {
  const atB = waitFor(sb, 'new-chat-message', (e) => e?.type === 'new_message' && e.data?.content === 'Hello everyone!');
  const res = await expectHttp([200, 201], 'POST', `/api/v1/chat/rooms/${roomId}/messages`, {
    auth: bearer(a),
    body: { content: 'Hello everyone!', message_type: 'text' },
  });
  check(res.json?.success === true, 'send failed', res.json);
  const e = await atB;
  check(e.timestamp && sameId(e.data.room_id, roomId) && sameId(e.data.sender_id, a.user), 'envelope shape', e);
  return e.data;
});

// §4. mark-messages-seen → messages-seen (others) + messages-seen-acknowledged (caller)
await step('read receipt', async () => {
  const seen = waitFor(sa, 'messages-seen', (p) => sameId(p?.userId, b.user));
  const acked = waitFor(sb, 'messages-seen-acknowledged', () => true);
  sb.emit('mark-messages-seen', { roomId, messageIds: [sent.id] });
  const [p] = await Promise.all([seen, acked]);
  check(sameId(p.roomId, roomId), 'messages-seen shape', p);
});

// §6. update-chat-status → chat-user-status-update; §7. get-room-online-users → room-online-users
await step('presence: status update and online users', async () => {
  const changed = waitFor(sa, 'chat-user-status-update', (p) => sameId(p?.userId, b.user) && p.isOnline === true);
  sb.emit('update-chat-status', { status: 'away' });
  await changed;
  const list = waitFor(sa, 'room-online-users', (p) => sameId(p?.roomId, roomId));
  sa.emit('get-room-online-users', { roomId });
  const p = await list;
  check(p.count >= 1 && Array.isArray(p.users), 'room-online-users shape', p);
  // §7: users[] is {userId, userName, userType}: the token's name and user type, not the id.
  const me = p.users.find((u) => sameId(u.userId, a.user));
  const other = p.users.find((u) => sameId(u.userId, b.user));
  const named = (u, name, type) => u && u.userName === (name ?? u.userName) && u.userType === (type ?? u.userType);
  check(named(me, process.env.NAME_A, process.env.TYPE_A), 'online user A named and typed', p);
  check(named(other, process.env.NAME_B, process.env.TYPE_B), 'online user B named and typed', p);
  return { count: p.count };
});

// §5. Delete via REST → chat-message-deleted {type: 'message_deleted', data: {messageId, deletedBy}}
await step('delete (REST) and B sees chat-message-deleted', async () => {
  const gone = waitFor(sb, 'chat-message-deleted', (e) => e?.type === 'message_deleted' && sameId(e.data?.messageId, sent.id));
  await expectHttp(200, 'DELETE', `/api/v1/chat/messages/${sent.id}`, { auth: bearer(a) });
  const e = await gone;
  check(sameId(e.data.deletedBy, a.user), 'deletedBy', e);
});

// §Admin WebSocket Stats: GET /api/v1/chat/admin/websocket-stats with the admin token; a user's token is refused.
await step('admin websocket stats', async () => {
  const res = await expectHttp(200, 'GET', '/api/v1/chat/admin/websocket-stats', { auth: { authorization: `Bearer ${process.env.ADMIN_TOKEN}` } });
  const d = res.json?.data;
  check(res.json?.success === true && d?.message === 'Real-time chat statistics', 'stats envelope', res.json);
  check(d.totalConnections >= 2 && d.totalUsers >= 2 && typeof d.activeChatRooms === 'number' && typeof d.timestamp === 'string', 'stats figures', d);
  await expectHttp(403, 'GET', '/api/v1/chat/admin/websocket-stats', { auth: bearer(a) });
});

await step('B goes offline and A sees chat-user-status-update', async () => {
  const seen = waitFor(sa, 'chat-user-status-update', (p) => sameId(p?.userId, b.user) && p.isOnline === false, env.timeout + 10000);
  sb.close();
  await seen;
});

done();
