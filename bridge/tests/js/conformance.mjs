// The behaviours the official Socket.IO / Engine.IO protocol suites check, against conformance mode
// (BRIDGE_URL): handshake values, the first ping only after pingInterval, echo and ack echo with binary
// attachments, namespaces, invalid packets closing the connection, the raw Engine.IO echo, upgrade.
import WebSocket from "ws";
import { check, run } from "./lib.mjs";

const HTTP = process.env.BRIDGE_URL;
const WS = HTTP.replace("http", "ws");
const PING_INTERVAL = 300;

function open(path) {
  const socket = new WebSocket(`${WS}${path}`);
  socket.binaryType = "arraybuffer";
  const queue = [];
  const waiters = [];
  socket.on("message", (data, isBinary) => {
    const item = { data: isBinary ? Buffer.from(data) : data.toString(), at: Date.now() };
    const w = waiters.shift();
    if (w) w(item);
    else queue.push(item);
  });
  const closed = new Promise((resolve) => socket.on("close", resolve));
  socket.on("error", () => {});
  const next = () =>
    queue.length
      ? Promise.resolve(queue.shift())
      : new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no message on ${path}`)), 3000);
          waiters.push((item) => {
            clearTimeout(timer);
            resolve(item);
          });
        });
  return { socket, next, closed, opened: new Promise((r) => socket.on("open", r)) };
}

async function socketio(path = "/socket.io/?EIO=4&transport=websocket", connect = "40") {
  const c = open(path);
  const handshake = await c.next();
  c.socket.send(connect);
  const connected = await c.next();
  const auth = await c.next();
  return { ...c, handshake, connected, auth };
}

run(async () => {
  const out = {};
  // Handshakes.
  const polling = await (await fetch(`${HTTP}/socket.io/?EIO=4&transport=polling`)).text();
  const hs = JSON.parse(polling.substring(1));
  check(polling[0] === "0" && hs.pingInterval === 300 && hs.pingTimeout === 200 && hs.maxPayload === 1000000, polling);
  check(JSON.stringify(hs.upgrades) === '["websocket"]', "polling upgrades");
  out.badEio = (await fetch(`${HTTP}/socket.io/?transport=polling`)).status;

  // The first ping comes after pingInterval, over polling and WebSocket.
  const start = Date.now();
  const firstPoll = await (await fetch(`${HTTP}/socket.io/?EIO=4&transport=polling&sid=${hs.sid}`)).text();
  out.pollFirstPingMs = Date.now() - start;
  check(firstPoll === "2", `first poll: ${firstPoll}`);
  const main = await socketio();
  check(JSON.parse(main.handshake.data.substring(1)).upgrades.length === 0, "websocket upgrades");
  check(main.connected.data.startsWith("40{"), `connect: ${main.connected.data}`);
  check(main.auth.data === '42["auth",{}]', `auth: ${main.auth.data}`);
  const ping = await main.next();
  check(ping.data === "2", `expected a ping, got ${ping.data}`);
  out.wsFirstPingMs = ping.at - main.handshake.at;

  // Echo, ack echo, binary attachments.
  main.socket.send('42["message",1,"2",{"3":[true]}]');
  out.echo = (await main.next()).data;
  main.socket.send('42456["message-with-ack",1,"2",{"3":[false]}]');
  out.ack = (await main.next()).data;
  main.socket.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
  main.socket.send(Uint8Array.from([1, 2, 3]));
  main.socket.send(Uint8Array.from([4, 5, 6]));
  out.binary = [(await main.next()).data, [...(await main.next()).data], [...(await main.next()).data]];

  // Namespaces.
  const custom = await socketio(undefined, '40/custom,{"token":"abc"}');
  out.customAuth = custom.auth.data;
  const unknown = open("/socket.io/?EIO=4&transport=websocket");
  await unknown.next();
  unknown.socket.send("40/random");
  out.unknownNamespace = (await unknown.next()).data;

  // Invalid packets close the connection.
  const invalid = await socketio();
  invalid.socket.send("42{}");
  await invalid.closed;

  // Raw Engine.IO echo, WebSocket and polling, and an upgrade.
  const eio = open("/engine.io/?EIO=4&transport=websocket");
  await eio.next();
  eio.socket.send("4hello");
  out.engineEcho = (await eio.next()).data;
  eio.socket.send(Uint8Array.from([1, 2, 3, 4]));
  out.engineBinary = [...(await eio.next()).data];
  const eioPoll = JSON.parse((await (await fetch(`${HTTP}/engine.io/?EIO=4&transport=polling`)).text()).substring(1));
  const url = `${HTTP}/engine.io/?EIO=4&transport=polling&sid=${eioPoll.sid}`;
  await fetch(url, { method: "post", body: "4test1\x1e4test2" });
  out.enginePoll = await (await fetch(url)).text();
  const up = open(`/engine.io/?EIO=4&transport=websocket&sid=${eioPoll.sid}`);
  await up.opened;
  up.socket.send("2probe");
  out.probe = (await up.next()).data;
  up.socket.send("5");
  up.socket.send("4upgraded");
  out.upgraded = (await up.next()).data;
  for (const s of [main, custom, unknown, eio, up]) s.socket.close();
  return out;
});
