// Traffic for the metrics test: Alice and Bob connect over WebSocket, Alice sends MESSAGES messages that
// Bob receives, one connection is refused, one unknown event is answered with an error. While both
// sockets are up the bridge's /metrics (METRICS_URL) and quipd's (QUIPD_METRICS_URL) are scraped; the texts
// come back in the result.
import { call, check, connect, ok, run, waitFor } from "./lib.mjs";

const count = Number(process.env.MESSAGES);

run(async () => {
  const { socket: alice } = await connect({ auth: { token: process.env.TOKEN_ALICE } });
  const { socket: bob } = await connect({ auth: { token: process.env.TOKEN_BOB } });
  const opened = await ok(alice, "conversation:openDirect", { peerUserId: "bob" });
  const conversationId = opened.conversation.id;

  let received = 0;
  const all = waitFor(bob, "message:new", () => ++received === count);
  for (let i = 0; i < count; i++) {
    await ok(alice, "message:send", { conversationId, text: `m${i}`, clientMsgId: `metrics-${i}` });
  }
  await all;
  const unknown = await call(alice, "no:such:event", {});
  check(unknown.success === false, "an unknown event succeeded");
  let refused = "";
  try {
    const { socket } = await connect({ auth: { token: "not-a-jwt" } });
    socket.close();
  } catch (e) {
    refused = e.message;
  }
  check(refused !== "", "a bad token was accepted");

  const live = await (await fetch(process.env.METRICS_URL)).text();
  const liveQuipd = await (await fetch(process.env.QUIPD_METRICS_URL)).text();
  alice.close();
  bob.close();
  return { conversationId, received, refused, live, liveQuipd };
});
