// Legacy handshakes on dialect listeners: Jivbook mounted at /jivbook on the main listener (Socket.IO
// path /jivbook/socket.io/), KAAJ KAAM's token in a cookie, a client claiming another user's id, and an
// event the dialect does not know; a read receipt's message id on a socket that was given the message and
// on one that connected after it (looked up beside the delivery). Prints one JSON line.
import { io } from 'socket.io-client';

const url = process.env.BRIDGE_URL;
const timeout = 10000;

function connect(base, options) {
  const s = io(base, { transports: ['websocket'], reconnection: false, ...options });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connect timed out')), timeout);
    s.once('connect', () => { clearTimeout(timer); resolve(s); });
    s.once('connect_error', (e) => { clearTimeout(timer); s.close(); reject(e); });
  });
}

function next(s, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event}`)), timeout);
    s.once(event, (p) => { clearTimeout(timer); resolve(p); });
  });
}

const out = {};
const chatId = process.env.CHAT_ID;
const a = await connect(url, { path: '/jivbook/socket.io/', auth: { token: process.env.TOKEN_ALICE } });
const b = await connect(url, { path: '/jivbook/socket.io/', auth: { token: process.env.TOKEN_BOB } });
const got = next(b, 'newMessage');
a.emit('sendMessage', { chatId, content: 'hello from the mount', messageType: 'text' });
const sent = await got;
out.mounted = sent.content;
const late = await connect(url, { path: '/jivbook/socket.io/', auth: { token: process.env.TOKEN_ALICE } });
const seen = next(a, 'messageRead');
const seenLate = next(late, 'messageRead');
b.emit('markAsRead', { chatId, messageId: sent._id });
out.receipts = { sent: String(sent._id), seen: String((await seen).messageId), late: String((await seenLate).messageId) };
const error = next(a, 'error');
a.emit('noSuchEvent', {});
out.unknownEvent = await error;

const kaaj = process.env.KAAJKAAM_URL;
const c = await connect(kaaj, { extraHeaders: { cookie: `token=${process.env.TOKEN_ALICE}` }, query: { userId: 'alice' } });
out.cookie = c.connected;
try {
  const impostor = await connect(kaaj, { extraHeaders: { 'x-auth-token': process.env.TOKEN_ALICE }, query: { userId: 'bob' } });
  impostor.close();
  out.impostor = 'connected';
} catch (e) {
  out.impostor = e.message;
}
for (const s of [a, b, c, late]) s.close();
console.log(JSON.stringify(out));
process.exit(0);
