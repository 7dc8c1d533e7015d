// Bob goes away after message 1, Alice sends 2 and 3, Bob reconnects with what he has seen and gets
// exactly 2 and 3 (replayed), then the live ones.
import { check, connect, ok, run, waitFor } from "./lib.mjs";

run(async () => {
  const { socket: alice } = await connect({ auth: { token: process.env.TOKEN_ALICE } });
  let { socket: bob, session } = await connect({ auth: { token: process.env.TOKEN_BOB, deviceId: "phone" } });
  const { conversation } = await ok(alice, "conversation:openDirect", { peerUserId: "bob" });
  const conversationId = conversation.id;

  const first = waitFor(bob, "message:new", (m) => m.text === "one");
  await ok(alice, "message:send", { conversationId, text: "one" });
  const seen = await first;
  bob.close();

  await ok(alice, "message:send", { conversationId, text: "two" });
  await ok(alice, "message:send", { conversationId, text: "three" });

  const replayed = [];
  const resume = { globalCursor: session.globalCursor, cursors: { [conversationId]: seen.seq } };
  let syncDone;
  const again = await connect({ auth: { token: process.env.TOKEN_BOB, deviceId: "phone", resume } }, (s) => {
    s.on("message:new", (m) => replayed.push({ text: m.text, seq: m.seq, replay: m.replay }));
    syncDone = waitFor(s, "sync:done");
  });
  bob = again.socket;
  const sync = await syncDone;
  const live = waitFor(bob, "message:new", (m) => m.text === "four");
  await ok(alice, "message:send", { conversationId, text: "four" });
  await live;
  check(again.session.resumed === true, `session not resumed: ${JSON.stringify(again.session)}`);
  alice.close();
  bob.close();
  return { resumed: again.session.resumed, replayed, syncReplayed: sync.replayed };
});
