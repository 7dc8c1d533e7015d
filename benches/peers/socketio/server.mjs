// The Node Socket.IO 4 peer of quip-bench: the minimal room-broadcast chat server that the apps Quip
// replaces start from (socket.io + an in-memory room per conversation; nothing is stored).
//
// It speaks the bridge's canonical event names (docs/BRIDGE.md) so that the same generator drives both:
//   conversation:join {conversationId}        -> joins room conversation:<id>, acks {success: true}
//   message:send {conversationId, text}       -> socket.to(room).emit("message:new", {conversationId, text}),
//                                                acks {success: true, data: {conversationId}}
// Authentication is a user id in the handshake's auth (`auth.token`), taken as is.
// PORT (default 3300) and HOST (default 127.0.0.1) come from the environment; it prints "listening" once up.
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.env.PORT || 3300);
const host = process.env.HOST || "127.0.0.1";
const http = createServer();
const io = new Server(http, { transports: ["websocket"], serveClient: false });

io.use((socket, next) => {
  const user = socket.handshake.auth && socket.handshake.auth.token;
  if (!user) return next(new Error("Unauthenticated: no token"));
  socket.data.user = String(user);
  next();
});

io.on("connection", (socket) => {
  socket.on("conversation:join", (payload, ack) => {
    socket.join(`conversation:${payload.conversationId}`);
    if (typeof ack === "function") ack({ success: true, data: { id: payload.conversationId } });
  });
  socket.on("message:send", (payload, ack) => {
    const conversationId = payload.conversationId;
    socket.to(`conversation:${conversationId}`).emit("message:new", {
      conversationId,
      senderId: socket.data.user,
      text: payload.text,
      createdAt: Date.now(),
    });
    if (typeof ack === "function") ack({ success: true, data: { conversationId } });
  });
});

http.listen(port, host, () => {
  console.log(`listening on ${host}:${port}`);
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
