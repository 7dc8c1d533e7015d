// Opens the bridge's web page in headless Chromium (Debian's), driven over the DevTools protocol with the
// `ws` package that socket.io-client already brings: the page connects with its own Engine.IO/Socket.IO
// code, opens the chat with Bob and sends a message. Prints what the page shows.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { check, fail, run } from "./lib.mjs";

const TIMEOUT = 20000;
const profile = mkdtempSync(join(tmpdir(), "quip-chromium-"));
const browser = spawn(process.env.CHROMIUM || "chromium", [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage", `--user-data-dir=${profile}`, "--remote-debugging-port=0", "about:blank",
], { stdio: ["ignore", "ignore", "pipe"] });

function cleanup() {
  browser.kill("SIGKILL");
  try { rmSync(profile, { recursive: true, force: true }); } catch {}
}
process.on("exit", cleanup);
setTimeout(() => fail("the browser test took too long"), 50000).unref();

function devtoolsUrl() {
  return new Promise((resolve, reject) => {
    let err = "";
    browser.stderr.on("data", (chunk) => {
      err += chunk;
      const m = err.match(/DevTools listening on (ws:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    browser.on("exit", (code) => reject(new Error(`chromium exited (${code}): ${err}`)));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

run(async () => {
  const ws = new WebSocket(await devtoolsUrl());
  await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
  let next = 1;
  const pending = new Map();
  ws.on("message", (data) => {
    const msg = JSON.parse(data);
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  });
  const cdp = (method, params = {}, sessionId) => new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, (msg) => (msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result)));
    ws.send(JSON.stringify({ id, method, params, sessionId }));
  });
  const hash = new URLSearchParams({ token: process.env.TOKEN_ALICE, peer: "bob", send: "hello from the browser" });
  const url = `${process.env.BRIDGE_URL}/#${hash}`;
  const { targetId } = await cdp("Target.createTarget", { url });
  const { sessionId } = await cdp("Target.attachToTarget", { targetId, flatten: true });
  const evaluate = async (expression) =>
    (await cdp("Runtime.evaluate", { expression, returnByValue: true }, sessionId)).result.value;

  const deadline = Date.now() + TIMEOUT;
  while ((await evaluate("document.body && document.body.dataset.ready")) !== "true") {
    check(Date.now() < deadline, `the page never got ready; status: ${await evaluate("document.getElementById('status').textContent")}`);
    await sleep(100);
  }
  const result = {
    user: await evaluate("document.body.dataset.user"),
    status: await evaluate("document.getElementById('status').textContent"),
    messages: await evaluate("[...document.querySelectorAll('.msg')].map((d) => d.textContent)"),
    conversations: await evaluate("[...document.querySelectorAll('#convs li')].map((li) => li.textContent)"),
    usesLibrary: await evaluate("typeof window.io !== 'undefined'"),
  };
  ws.close();
  return result;
});
