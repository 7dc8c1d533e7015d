// Bad input of every kind against the canonical Socket.IO listener: wrong payload types, unknown events,
// an over-long text, a flood, an oversized Socket.IO payload and malformed packets. Each gets an error (or
// its own connection closed); the bridge stays up and the well-behaved sockets keep working.
import WebSocket from "ws";
import { call, check, connect, ok, run, waitFor, URL } from "./lib.mjs";

const code = (ack) => (ack && ack.success === false ? ack.error.code : `success: ${JSON.stringify(ack)}`);

// A raw Socket.IO connection (WebSocket transport) that sends `packet` after connecting; resolves when the
// server closes it (or with "open" if it is still open after a second).
async function rawSend(packet) {
  const ws = new WebSocket(`${URL.replace("http", "ws")}/socket.io/?EIO=4&transport=websocket`);
  ws.on("error", () => {});
  const closed = new Promise((resolve) => ws.on("close", () => resolve("closed")));
  let seen = 0;
  ws.on("message", (data) => {
    const text = data.toString();
    if (text === "2") ws.send("3");
    if (++seen === 1) ws.send(`40${JSON.stringify({ token: process.env.TOKEN_ALICE })}`);
    else if (text.startsWith("40")) ws.send(packet);
  });
  return Promise.race([closed, new Promise((r) => setTimeout(() => r("open"), 1000))]).finally(() => ws.close());
}

run(async () => {
  const { socket: alice } = await connect({ auth: { token: process.env.TOKEN_ALICE } });
  const { socket: bob } = await connect({ auth: { token: process.env.TOKEN_BOB } });
  const conversationId = (await ok(alice, "conversation:openDirect", { peerUserId: "bob" })).conversation.id;
  const out = {};

  // Wrong payload types, unknown events.
  out.stringPayload = code(await call(alice, "message:send", "just a string"));
  out.arrayPayload = code(await call(alice, "message:send", [1, 2, 3]));
  out.numberText = code(await call(alice, "message:send", { conversationId, text: 42 }));
  out.badId = code(await call(alice, "message:send", { conversationId: "abc", text: "x" }));
  out.missing = code(await call(alice, "message:send", {}));
  out.unknown = code(await call(alice, "no:such:event", { a: 1 }));
  const errorEvent = waitFor(alice, "error", (e) => e.event === "message:send");
  alice.emit("message:send", "no ack, wrong type");
  out.errorEvent = (await errorEvent).code;
  out.notMember = code(await call(alice, "message:history", { conversationId: 424242 }));

  // Over quipd's text limit.
  out.longText = code(await call(alice, "message:send", { conversationId, text: "x".repeat(20000) }));

  // A flood: more sends than the bridge profile allows (the test sets 30 a minute).
  const acks = await Promise.all(
    Array.from({ length: 60 }, (_, i) => call(alice, "message:send", { conversationId, text: `flood ${i}`, clientMsgId: `f-${i}` })),
  );
  const limited = acks.filter((a) => a.success === false && a.error.code === "RateLimited");
  out.flood = { accepted: acks.filter((a) => a.success).length, limited: limited.length, retryAfter: limited[0]?.error.retryAfter };

  // An oversized Socket.IO payload (over the 1 MB maxPayload) closes only that socket.
  const { socket: big } = await connect({ auth: { token: process.env.TOKEN_BOB } });
  const bigGone = new Promise((resolve) => big.on("disconnect", (reason) => resolve(reason)));
  big.emit("message:send", { conversationId, text: "y".repeat(1_200_000) });
  out.oversized = await bigGone;

  // Malformed packets close only their own connection.
  out.malformed = {
    badJson: await rawSend('42["message:send",{'),
    notArray: await rawSend("42{}"),
    badType: await rawSend("4abc"),
    badAck: await rawSend('42abc["message:send",{}]'),
  };

  // Everyone else is still served.
  check(alice.connected && bob.connected, "a well-behaved socket was dropped");
  const history = await ok(bob, "message:history", { conversationId, limit: 100 });
  out.stored = history.messages.length;
  alice.close();
  bob.close();
  return out;
});
