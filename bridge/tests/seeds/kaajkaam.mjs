// Seed 000 (KAAJ KAAM): the documented client flow against a bridge listener with the `kaajkaam` dialect.
// REST under /api/chat with `x-auth-token`; sockets with `query: {userId}`, snake_case events, bare ids.
import { env, step, connect, waitFor, expectHttp, check, sameId, done } from './lib.mjs';

const { a, b } = env;
const auth = (who) => ({ 'x-auth-token': who.token });
const open = (who) =>
  connect({
    autoConnect: false,
    withCredentials: true,
    query: { userId: who.user },
    extraHeaders: { 'x-auth-token': who.token },
  });

// §API Endpoints: POST /conversations {participantId} — create or get
const conversation = await step('create or get conversation (REST)', async () => {
  const res = await expectHttp([200, 201], 'POST', '/api/chat/conversations', {
    auth: auth(a),
    body: { participantId: b.user },
  });
  check(res.json?._id, 'no _id', res.json);
  check(res.json.participants?.map(String).includes(b.user), 'B is not a participant', res.json);
  return res.json;
});
const convId = conversation._id;

// §Socket.IO Setup: connect, then emit('user_online', userId); the other side hears user_online.
const sa = await step('A connects and announces itself', async () => {
  const s = await open(a);
  s.emit('user_online', a.user);
  return s;
});
const sawBOnline = waitFor(sa, 'user_online', (p) => sameId(p?.userId, b.user));
const sb = await step('B connects and announces itself', async () => {
  const s = await open(b);
  s.emit('user_online', b.user);
  return s;
});
await step('A sees user_online for B', () => sawBOnline.then((p) => ({ userId: p.userId })));

// §Real-time Features 1: join_conversation with the bare id
await step('both join the conversation room', async () => {
  sa.emit('join_conversation', convId);
  sb.emit('join_conversation', convId);
  await new Promise((r) => setTimeout(r, 300));
});

// §Real-time Features 2: typing / stop_typing → user_typing / user_stop_typing
await step('typing reaches the other side', async () => {
  const seen = waitFor(sb, 'user_typing', (p) => sameId(p?.userId, a.user));
  sa.emit('typing', convId);
  const p = await seen;
  check(p.timestamp, 'user_typing has no timestamp', p);
  const stopped = waitFor(sb, 'user_stop_typing', (p) => sameId(p?.userId, a.user));
  sa.emit('stop_typing', convId);
  await stopped;
});

// §Message Flow: POST /conversations/:id/messages → 201 + message; B gets receive_message (and new_notification)
const sent = await step('send a message (REST) and B receives it', async () => {
  const received = waitFor(sb, 'receive_message', (m) => m?.text === 'Hello!');
  const notified = waitFor(sb, 'new_notification', () => true);
  const res = await expectHttp(201, 'POST', `/api/chat/conversations/${convId}/messages`, {
    auth: auth(a),
    body: { text: 'Hello!' },
  });
  check(res.json?._id && res.json.text === 'Hello!', 'the 201 body is not the message', res.json);
  const m = await received;
  check(sameId(m._id, res.json._id) && sameId(m.conversationId, convId), 'receive_message differs', m);
  check(sameId(m.sender, a.user), 'sender is not A', m);
  await notified;
  return m;
});

// §API Endpoints: GET /conversations/:id/messages?limit=50&skip=0
await step('history (REST, skip/limit)', async () => {
  const res = await expectHttp(200, 'GET', `/api/chat/conversations/${convId}/messages`, {
    auth: auth(b),
    query: { limit: 50, skip: 0 },
  });
  check(Array.isArray(res.json) && res.json.some((m) => sameId(m._id, sent._id)), 'message not in history', res.json);
});

// §Data Models: `sendMessage` leaves `readBy` alone and `unreadCount` counts the others' messages: B's
// reply does not read A's message (no messages_read), and B still has it unread until mark_read.
await step('a reply is not a read', async () => {
  const count = async (who) => (await expectHttp(200, 'GET', '/api/chat/unread-count', { auth: auth(who) })).json?.unreadCount;
  check((await count(b)) === 1, 'B should have A\'s message unread', await count(b));
  const early = waitFor(sa, 'messages_read', (p) => sameId(p?.userId, b.user), 1000).then(() => 'read', () => 'not read');
  const atA = waitFor(sa, 'receive_message', (m) => m?.text === 'Hi A');
  sb.emit('send_message', { conversationId: convId, text: 'Hi A', sender: b.user, time: '10:01' });
  await atA;
  check((await early) === 'not read', 'B\'s reply was announced as a read');
  check((await count(b)) === 1, 'B\'s reply reset B\'s unread count', await count(b));
  check((await count(a)) === 1, 'A should have B\'s reply unread (and never its own message)', await count(a));
});

// §Real-time Features 4: mark_read → messages_read {userId, conversationId}
await step('read receipt', async () => {
  const seen = waitFor(sa, 'messages_read', (p) => sameId(p?.userId, b.user));
  sb.emit('mark_read', convId);
  const p = await seen;
  check(sameId(p.conversationId, convId), 'wrong conversation', p);
});

// The seed emits messages_read on every mark_read, also when everything was read already.
await step('a mark_read that moves nothing is still announced', async () => {
  const seen = waitFor(sa, 'messages_read', (p) => sameId(p?.userId, b.user));
  sb.emit('mark_read', convId);
  const p = await seen;
  check(sameId(p.conversationId, convId), 'wrong conversation', p);
});

await step('mark read and unread count (REST)', async () => {
  await expectHttp(200, 'PUT', `/api/chat/conversations/${convId}/read`, { auth: auth(b) });
  const res = await expectHttp(200, 'GET', '/api/chat/unread-count', { auth: auth(b) });
  check(typeof res.json?.unreadCount === 'number', 'no unreadCount', res.json);
});

// §WebRTC Video/Audio Calls: call:initiate → call:incoming; call:accept → call:accepted; ICE both ways;
// call:end; a second call rejected → call:rejected.
await step('a video call: ring, accept, ICE, end', async () => {
  const incoming = waitFor(sb, 'call:incoming', (p) => sameId(p?.from, a.user));
  sa.emit('call:initiate', {
    conversationId: convId,
    callType: 'video',
    offer: { type: 'offer', sdp: 'v=0 offer-from-a' },
    from: a.user,
    to: b.user,
  });
  const ring = await incoming;
  check(ring.callType === 'video' && ring.offer?.sdp === 'v=0 offer-from-a', 'call:incoming payload', ring);
  const accepted = waitFor(sa, 'call:accepted', (p) => p?.answer?.sdp === 'v=0 answer-from-b');
  sb.emit('call:accept', { conversationId: convId, to: a.user, answer: { type: 'answer', sdp: 'v=0 answer-from-b' } });
  const ok = await accepted;
  check(ok.answer.type === 'answer', 'call:accepted payload', ok);
  const iceAtB = waitFor(sb, 'webrtc:ice-candidate', (p) => p?.candidate?.candidate === 'candidate:1 1 UDP 1 10.0.0.1 9 typ host');
  sa.emit('webrtc:ice-candidate', {
    conversationId: convId,
    to: b.user,
    candidate: { candidate: 'candidate:1 1 UDP 1 10.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 },
  });
  const ice = await iceAtB;
  check(ice.candidate.sdpMid === '0', 'ICE candidate fields', ice);
  const iceAtA = waitFor(sa, 'webrtc:ice-candidate', (p) => p?.candidate?.candidate === 'candidate:2 1 UDP 1 10.0.0.2 9 typ host');
  sb.emit('webrtc:ice-candidate', { conversationId: convId, to: a.user, candidate: { candidate: 'candidate:2 1 UDP 1 10.0.0.2 9 typ host', sdpMid: '0', sdpMLineIndex: 0 } });
  await iceAtA;
  const ended = waitFor(sb, 'call:ended', (p) => sameId(p?.from, a.user));
  sa.emit('call:end', { conversationId: convId, to: b.user });
  await ended;
});

await step('a call rejected', async () => {
  const incoming = waitFor(sb, 'call:incoming', (p) => sameId(p?.from, a.user));
  sa.emit('call:initiate', { conversationId: convId, callType: 'audio', offer: { type: 'offer', sdp: 'v=0 second' }, from: a.user, to: b.user });
  await incoming;
  const rejected = waitFor(sa, 'call:rejected', (p) => sameId(p?.from, b.user));
  sb.emit('call:reject', { conversationId: convId, to: a.user });
  await rejected;
});

// A caller who hangs up and calls again at once (`call:end` then `call:initiate`, no wait between): the
// bridge handles one socket's events in the order sent, so the callee hears the end, then the new ring.
await step('hang up and call again at once, five times', async () => {
  const first = waitFor(sb, 'call:incoming', (p) => p?.offer?.sdp === 'v=0 again-0');
  sa.emit('call:initiate', { conversationId: convId, callType: 'audio', offer: { type: 'offer', sdp: 'v=0 again-0' }, from: a.user, to: b.user });
  await first;
  for (let i = 1; i <= 5; i++) {
    const ended = waitFor(sb, 'call:ended', (p) => sameId(p?.from, a.user));
    const rang = waitFor(sb, 'call:incoming', (p) => p?.offer?.sdp === `v=0 again-${i}`);
    sa.emit('call:end', { conversationId: convId, to: b.user });
    sa.emit('call:initiate', { conversationId: convId, callType: 'audio', offer: { type: 'offer', sdp: `v=0 again-${i}` }, from: a.user, to: b.user });
    await ended;
    await rang;
  }
  const ended = waitFor(sb, 'call:ended', (p) => sameId(p?.from, a.user));
  sa.emit('call:end', { conversationId: convId, to: b.user });
  await ended;
  return { rounds: 5 };
});

// §API Endpoints: DELETE /conversations/:id (soft delete; the seed has no message deletion)
await step('delete the conversation (REST, soft)', async () => {
  const res = await expectHttp(200, 'DELETE', `/api/chat/conversations/${convId}`, { auth: auth(b) });
  return res.unimplemented ? 'unimplemented upstream' : res.json;
});

// §Real-time Features 3: disconnect → user_offline {userId}
await step('A sees user_offline for B', async () => {
  const seen = waitFor(sa, 'user_offline', (p) => sameId(p?.userId, b.user), env.timeout + 10000);
  sb.close();
  await seen;
});

// Online means a live client: B's REST calls alone do not make B online; B's socket does.
await step('REST calls alone do not make B online; B\'s socket does', async () => {
  const early = waitFor(sa, 'user_online', (p) => sameId(p?.userId, b.user), 1500).then(() => 'online', () => 'not online');
  await expectHttp(200, 'GET', '/api/chat/unread-count', { auth: auth(b) });
  check((await early) === 'not online', 'a REST call made B online');
  const online = waitFor(sa, 'user_online', (p) => sameId(p?.userId, b.user));
  const again = await open(b);
  await online;
  again.close();
});

done();
