// The seeds' own shape, as a peer of quip-bench: an Express + Socket.IO 4 app that saves every message to
// PostgreSQL (one INSERT per message, on a pg Pool, synchronous_commit on) and only then broadcasts it to
// the conversation's room and acks the sender. It stands in for the seeds' MongoDB-backed apps (MongoDB is
// not installable on the benchmark machine); quip-bench starts the PostgreSQL it talks to.
//
// The events are the ones of the in-memory peer (../socketio/server.mjs) and the bridge (docs/BRIDGE.md):
//   conversation:join {conversationId}   -> joins room conversation:<id>, acks {success: true}
//   message:send {conversationId, text}  -> INSERT INTO messages ..., then
//                                           socket.to(room).emit("message:new", {id, conversationId, text}),
//                                           acks {success: true, data: {conversationId, id}}
// Authentication is a user id in the handshake's auth (`auth.token`), taken as is.
// PORT (default 3300) and HOST (default 127.0.0.1) come from the environment, the database from the
// standard PG* variables (PGHOST, PGPORT, PGUSER, PGDATABASE); it prints "listening" once up.
import { createServer } from "node:http";
import express from "express";
import pg from "pg";
import { Server } from "socket.io";

const port = Number(process.env.PORT || 3300);
const host = process.env.HOST || "127.0.0.1";

const pool = new pg.Pool();
await pool.query(`CREATE TABLE IF NOT EXISTS messages (
  id BIGSERIAL PRIMARY KEY,
  conversation_id BIGINT NOT NULL,
  sender_id TEXT NOT NULL,
  text TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`);
await pool.query("CREATE INDEX IF NOT EXISTS messages_conversation ON messages (conversation_id, id)");

const app = express();
app.get("/health", (_req, res) => res.json({ ok: true }));
const http = createServer(app);
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
  socket.on("message:send", async (payload, ack) => {
    const conversationId = payload.conversationId;
    try {
      const { rows } = await pool.query(
        "INSERT INTO messages (conversation_id, sender_id, text) VALUES ($1, $2, $3) RETURNING id, created_at",
        [conversationId, socket.data.user, payload.text],
      );
      const [row] = rows;
      socket.to(`conversation:${conversationId}`).emit("message:new", {
        id: String(row.id),
        conversationId,
        senderId: socket.data.user,
        text: payload.text,
        createdAt: row.created_at.getTime(),
      });
      if (typeof ack === "function") ack({ success: true, data: { conversationId, id: String(row.id) } });
    } catch (err) {
      if (typeof ack === "function") ack({ success: false, error: String(err.message || err) });
    }
  });
});

http.listen(port, host, () => {
  console.log(`listening on ${host}:${port}`);
});
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => pool.end().finally(() => process.exit(0)));
}
