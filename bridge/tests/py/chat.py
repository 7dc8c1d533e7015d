"""End to end with python-socketio: connect, auth failure, send with ack, the other member receives,
reconnect and resume. Prints one JSON line; exits non-zero on failure."""

import json
import os
import queue
import sys

import socketio

URL = os.environ["BRIDGE_URL"]
TIMEOUT = 10


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


class Peer:
    """One connected client: its events land in queues."""

    def __init__(self, auth, transport="websocket"):
        self.sio = socketio.Client(reconnection=False)
        self.session = queue.Queue()
        self.messages = queue.Queue()
        self.sync = queue.Queue()
        self.sio.on("session", self.session.put)
        self.sio.on("message:new", self.messages.put)
        self.sio.on("sync:done", self.sync.put)
        self.sio.connect(URL, auth=auth, transports=[transport], wait_timeout=TIMEOUT)
        self.info = self.session.get(timeout=TIMEOUT)

    def ok(self, event, payload):
        ack = self.sio.call(event, payload, timeout=TIMEOUT)
        if not ack or ack.get("success") is not True:
            fail(f"{event} failed: {ack}")
        return ack["data"]

    def message(self, text):
        while True:
            m = self.messages.get(timeout=TIMEOUT)
            if m["text"] == text:
                return m

    def close(self):
        self.sio.disconnect()


def refused(auth):
    sio = socketio.Client(reconnection=False)
    errors = queue.Queue()
    sio.on("connect_error", errors.put)
    try:
        sio.connect(URL, auth=auth, transports=["websocket"], wait_timeout=TIMEOUT)
    except socketio.exceptions.ConnectionError:
        pass
    else:
        sio.disconnect()
        fail(f"connection with {auth} was accepted")
    data = errors.get(timeout=TIMEOUT)
    return data.get("message") if isinstance(data, dict) else str(data)


def main():
    token_alice, token_bob = os.environ["TOKEN_ALICE"], os.environ["TOKEN_BOB"]
    expired = refused({"token": os.environ["TOKEN_EXPIRED"]})

    alice = Peer({"token": token_alice}, transport="polling")
    bob = Peer({"token": token_bob, "deviceId": "py-bob"})
    conv = alice.ok("conversation:openDirect", {"peerUserId": "bob"})["conversation"]["id"]
    sent = alice.ok("message:send", {"conversationId": conv, "text": "hi from python"})
    got = bob.message("hi from python")
    if got["id"] != sent["id"]:
        fail(f"bob got {got} for ack {sent}")
    bob.close()

    alice.ok("message:send", {"conversationId": conv, "text": "while away"})
    resume = {"globalCursor": bob.info["globalCursor"], "cursors": {str(conv): got["seq"]}}
    bob = Peer({"token": token_bob, "deviceId": "py-bob", "resume": resume})
    missed = bob.message("while away")
    bob.sync.get(timeout=TIMEOUT)
    alice.close()
    bob.close()
    print(json.dumps({
        "expired": expired,
        "sent": {"id": sent["id"], "seq": sent["seq"]},
        "received": got["id"],
        "resumed": bob.info["resumed"],
        "missed": {"seq": missed["seq"], "replay": missed["replay"]},
    }))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # any failure fails the test with its trace
        import traceback

        traceback.print_exc()
        fail(repr(e))
