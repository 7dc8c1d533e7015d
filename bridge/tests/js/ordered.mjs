// One socket's events are handled in the order they were sent: Alice emits 500 `message:send` back to
// back without waiting for any ack; the acks come back in that order with rising seqs, Bob receives the
// messages in that order, and the stored history holds them in that order. Prints one JSON line.
import { call, check, connect, ok, run } from "./lib.mjs";

const COUNT = 500;

run(async () => {
  const { socket: alice } = await connect({ auth: { token: process.env.TOKEN_ALICE } });
  const { socket: bob } = await connect({ auth: { token: process.env.TOKEN_BOB } });
  const opened = await ok(alice, "conversation:openDirect", { peerUserId: "bob" });
  const conversationId = opened.conversation.id;
  await ok(bob, "conversation:join", { conversationId });

  const received = [];
  const allReceived = new Promise((resolve) => {
    bob.on("message:new", (m) => {
      if (m.conversationId !== conversationId) return;
      received.push(m.text);
      if (received.length === COUNT) resolve();
    });
  });
  const answered = [];
  const acks = [];
  for (let i = 0; i < COUNT; i++) {
    acks.push(
      call(alice, "message:send", { conversationId, text: `m${i}`, clientMsgId: `burst-${i}` }).then((ack) => {
        check(ack && ack.success === true, `send ${i} failed: ${JSON.stringify(ack)}`);
        answered.push(i);
        return ack.data.seq;
      }),
    );
  }
  const seqs = await Promise.all(acks);
  await allReceived;

  // The stored order is the seq order: page forward through the history and sort by seq.
  const stored = [];
  let after = 0;
  while (stored.length < COUNT) {
    const page = await ok(bob, "message:history", { conversationId, after, limit: 100 });
    check(page.messages.length > 0, `history ended after ${stored.length} messages`);
    stored.push(...page.messages);
    after = Math.max(...page.messages.map((m) => m.seq));
  }
  const storedTexts = stored.sort((x, y) => x.seq - y.seq).map((m) => m.text);
  alice.close();
  bob.close();
  const inOrder = (list) => list.every((v, i) => i === 0 || v > list[i - 1]);
  const texts = Array.from({ length: COUNT }, (_, i) => `m${i}`);
  return {
    count: COUNT,
    acksInOrder: answered.every((v, i) => v === i),
    seqsRising: inOrder(seqs),
    receivedInOrder: JSON.stringify(received) === JSON.stringify(texts),
    storedInOrder: JSON.stringify(storedTexts) === JSON.stringify(texts),
  };
});
