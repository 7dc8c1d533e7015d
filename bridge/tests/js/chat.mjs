// Alice and Bob: open a conversation, join it, send with ack, Bob receives it; typing; read receipt;
// errors as acks and as `error` events.
import { call, check, connect, ok, run, waitFor } from "./lib.mjs";

run(async () => {
  const { socket: alice } = await connect({ auth: { token: process.env.TOKEN_ALICE, deviceId: "tab-a" } });
  const { socket: bob } = await connect({ auth: { token: process.env.TOKEN_BOB } });

  const opened = await ok(alice, "conversation:openDirect", { peerUserId: "bob" });
  const conversationId = opened.conversation.id;
  const joined = await ok(bob, "conversation:join", { conversationId });
  check(joined.id === conversationId, "join answered another conversation");

  const bobGets = waitFor(bob, "message:new", (m) => m.text === "hello bob");
  const sent = await ok(alice, "message:send", { conversationId, text: "hello bob", clientMsgId: "n-1" });
  const received = await bobGets;
  check(received.id === sent.id && received.seq === sent.seq, "Bob got another message than the ack said");

  const typing = waitFor(bob, "typing:start", (t) => t.conversationId === conversationId);
  await ok(alice, "typing:start", { conversationId });
  const typed = await typing;

  const receipt = waitFor(alice, "message:receipt", (r) => r.kind === "read" && r.userId === "bob");
  await ok(bob, "message:read", { conversationId, upToSeq: sent.seq });
  const read = await receipt;

  const notMember = await call(alice, "conversation:join", { conversationId: 999999 });
  const badArgs = await call(alice, "message:send", { conversationId: "x", text: "?" });
  const unknown = await call(alice, "no:such:event", {});
  const errorEvent = waitFor(alice, "error", (e) => e.event === "message:edit");
  alice.emit("message:edit", { messageId: 999999, text: "nope" });
  const noAck = await errorEvent;

  const history = await ok(bob, "message:history", { conversationId, limit: 10 });
  alice.close();
  bob.close();
  return {
    conversationId,
    sent: { id: sent.id, seq: sent.seq, sender: sent.sender.id },
    received: { id: received.id, text: received.text, replay: received.replay },
    typing: typed.userId,
    read: { userId: read.userId, upToSeq: read.upToSeq },
    errors: { notMember: notMember.error.code, badArgs: badArgs.error, unknown: unknown.error.code, noAck: noAck.code },
    historyCount: history.messages.length,
  };
});
