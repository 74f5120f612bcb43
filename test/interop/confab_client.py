#!/usr/bin/env python3
"""A small Confab client over native framed TCP, written from docs/protocol.md alone.

Standard library only. Usable as a module (ConfabClient) or as a CLI:

    python3 confab_client.py --port P --name N --room R [--say TEXT ...]
                             [--listen SECONDS] [--drop-after SECONDS]
                             [--resume TOKEN --received N]

Everything the client sees is printed on stdout as JSON lines, one object per line:
{"event":"welcome",...}, {"event":"history",...}, {"event":"peer_joined",...},
{"event":"peer_left",...}, {"event":"message",...}, {"event":"ack",...}, {"event":"error",...},
{"event":"bye",...} (the server said BYE), {"event":"dropped","resume":...,"received":N}
(--drop-after), {"event":"left","received":N} (we sent BYE), {"event":"closed",...}
(the connection ended without BYE from either side).
"""

import argparse
import json
import socket
import struct
import sys
import threading
import time
import uuid

# Core frame types ("Frame types").
HELLO, WELCOME, ERROR, PING, PONG, PEER_JOINED, PEER_LEFT, BYE, UDP_BIND = range(0x01, 0x0A)
FIRST_CHANNEL_TYPE = 0x10
HEADER = struct.Struct(">BI")  # type u8, payload length u32 big-endian ("Frames")


class ConfabError(Exception):
    """A fatal ERROR frame, or a broken connection."""

    def __init__(self, code, message, body=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.body = body or {}


class ConfabClient:
    """One Confab session over one TCP connection.

    `on_event` is called with a dict for every event (see the module docstring); the CLI prints them.
    All reading happens in the thread that calls `poll`/`wait_for`; only the heartbeat thread and the
    caller send, under one lock so that frames never interleave.
    """

    def __init__(self, host="127.0.0.1", port=5000, on_event=None):
        self.host = host
        self.port = port
        self.on_event = on_event or (lambda event: None)
        self.sock = None
        self._send_lock = threading.Lock()
        self._buf = bytearray()
        self._stop = threading.Event()
        self._pinger = None
        self.welcome = None
        self.channels = {}        # channel name -> frame type id (WELCOME "channels")
        self.channel_kinds = {}   # channel name -> "json" | "binary" | "media"
        self.peers = {}           # session id -> name, other members of the room
        self.resume_token = None  # newest WELCOME's "resume"
        self.received = 0         # numbered frames received since the session's first WELCOME
        self.closed = False
        self.acks = {}            # clientId -> ack body
        self.failed = {}          # clientId -> ERROR body whose ref is that clientId

    # ---- frames -----------------------------------------------------------------------------

    def send_frame(self, ftype, payload=b""):
        with self._send_lock:
            self.sock.sendall(HEADER.pack(ftype, len(payload)) + payload)

    def send_json(self, ftype, obj):
        self.send_frame(ftype, json.dumps(obj, separators=(",", ":")).encode("utf-8"))

    def _read_frame(self, timeout):
        """One whole frame as (type, payload), or None if none completed within `timeout` seconds.

        Partial data stays in the buffer, so a timeout never loses bytes."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            if len(self._buf) >= HEADER.size:
                ftype, length = HEADER.unpack_from(self._buf)
                if len(self._buf) >= HEADER.size + length:
                    payload = bytes(self._buf[HEADER.size:HEADER.size + length])
                    del self._buf[:HEADER.size + length]
                    return ftype, payload
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self._buf += chunk

    # ---- session ----------------------------------------------------------------------------

    def connect(self, name, room=None, resume=None, received=0, client="python", timeout=10.0):
        """Connect, send HELLO (a resume HELLO when `resume` is given), wait for WELCOME."""
        self.sock = socket.create_connection((self.host, self.port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        hello = {"v": 1, "name": name, "client": client}
        if room is not None:
            hello["room"] = room
        if resume is not None:
            hello["resume"] = resume
            hello["received"] = received
            self.received = received  # cumulative over the whole session ("Resume")
        self.send_json(HELLO, hello)
        frame = self._read_frame(timeout)
        if frame is None:
            raise ConfabError("HANDSHAKE_TIMEOUT", "no WELCOME in time")
        ftype, payload = frame
        if ftype == ERROR:  # every error before WELCOME is fatal
            body = json.loads(payload)
            self.on_event(dict(event="error", **body))
            self.close()
            raise ConfabError(body.get("code"), body.get("message"), body)
        if ftype != WELCOME:
            self.close()
            raise ConfabError("PROTOCOL", f"expected WELCOME, got frame type {ftype:#04x}")
        self._handle_welcome(json.loads(payload))
        self._pinger = threading.Thread(target=self._heartbeat, name="confab-ping", daemon=True)
        self._pinger.start()
        return self.welcome

    def _handle_welcome(self, welcome):
        self.welcome = welcome
        self.channels = dict(welcome.get("channels", {}))
        self.channel_kinds = dict(welcome.get("channelKinds", {}))
        self.resume_token = welcome.get("resume")
        self.peers = {p["id"]: p["name"] for p in welcome.get("peers", [])}
        self.on_event({
            "event": "welcome",
            "session": welcome.get("session"),
            "name": welcome.get("name"),
            "room": welcome.get("room"),
            "channels": self.channels,
            "channelKinds": self.channel_kinds,
            "peers": welcome.get("peers", []),
            "resume": self.resume_token,
            "heartbeatMs": welcome.get("heartbeatMs"),
            "resumed": bool(welcome.get("resumed", False)),
            "received": self.received,
        })

    def _heartbeat(self):
        interval = (self.welcome.get("heartbeatMs") or 3000) / 1000.0
        while not self._stop.wait(interval):
            try:
                self.send_frame(PING, struct.pack(">d", time.time() * 1000.0))
            except OSError:
                return

    def _channel_name(self, ftype):
        for name, cid in self.channels.items():
            if cid == ftype:
                return name
        return None

    def _is_numbered(self, ftype, body):
        """The "Numbered frames" rule of the Resume section."""
        if ftype in (PEER_JOINED, PEER_LEFT):
            return True
        if ftype == ERROR:
            return not body.get("fatal", False)
        if ftype >= FIRST_CHANNEL_TYPE:
            name = self._channel_name(ftype)
            # An id absent from WELCOME should not happen; count it unless we know it is media.
            return self.channel_kinds.get(name) != "media"
        return False

    def _handle_frame(self, ftype, payload):
        """Update state and emit events for one frame. Returns False when the session is over."""
        if ftype == PING:
            self.send_frame(PONG, payload)  # "a client that receives one should answer"
            return True
        if ftype in (PONG, WELCOME, UDP_BIND):
            return True
        name = self._channel_name(ftype) if ftype >= FIRST_CHANNEL_TYPE else None
        kind = self.channel_kinds.get(name, "json") if name else None
        body = None
        if ftype < FIRST_CHANNEL_TYPE or kind == "json":
            body = json.loads(payload.decode("utf-8")) if payload else {}
        if self._is_numbered(ftype, body or {}):
            self.received += 1

        if ftype == PEER_JOINED:
            self.peers[body["id"]] = body["name"]
            self.on_event({"event": "peer_joined", "id": body["id"], "name": body["name"],
                           "peers": self._peer_list()})
        elif ftype == PEER_LEFT:
            self.peers.pop(body["id"], None)
            self.on_event({"event": "peer_left", "id": body["id"], "name": body["name"],
                           "reason": body.get("reason"), "peers": self._peer_list()})
        elif ftype == ERROR:
            ref = body.get("ref")
            if ref is not None and body.get("channel") == "chat":
                self.failed[ref] = body
            self.on_event(dict(event="error", **body))
            if body.get("fatal"):
                self.close()
                return False
        elif ftype == BYE:
            self.on_event({"event": "bye", "reason": body.get("reason")})
            self.close()
            return False
        elif name == "chat":
            self._handle_chat(body)
        elif ftype >= FIRST_CHANNEL_TYPE:
            self.on_event({"event": "channel", "channel": name, "type": ftype,
                           "kind": kind, "size": len(payload)})
        return True

    def _handle_chat(self, body):
        op = body.get("op")
        if op == "message":
            self.on_event(dict(event="message", **{k: v for k, v in body.items() if k != "op"}))
        elif op == "ack":
            if body.get("clientId") is not None:
                self.acks[body["clientId"]] = body
            self.on_event(dict(event="ack", **{k: v for k, v in body.items() if k != "op"}))
        elif op == "history":
            self.on_event({"event": "history", "messages": body.get("messages", [])})
        else:
            self.on_event({"event": "chat", "body": body})

    def _peer_list(self):
        return [{"id": pid, "name": pname} for pid, pname in self.peers.items()]

    def step(self, timeout):
        """Read and handle at most one frame, waiting up to `timeout` seconds for it.

        Returns False once the session is over (the reason was already emitted)."""
        if self.closed:
            return False
        try:
            frame = self._read_frame(timeout)
        except OSError as err:  # ConnectionError included
            if not self.closed:
                self.on_event({"event": "closed", "reason": str(err), "received": self.received})
                self.close()
            return False
        return True if frame is None else self._handle_frame(*frame)

    def poll(self, timeout):
        """Handle frames for `timeout` seconds. Returns False once the session is over."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.step(deadline - time.monotonic()):
                return False
        return not self.closed

    def wait_for(self, predicate, timeout):
        """Handle frames until predicate() is true; returns its value, or None on timeout/close."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.step(remaining):
                return predicate() or None

    # ---- chat -------------------------------------------------------------------------------

    def send_chat(self, text, to=None, client_id=None):
        """Send the chat plugin's `send` op; returns the clientId used."""
        # A clientId must be unique for the whole session, resumes included, or the server takes the
        # send for a re-send and just repeats the old ack ("Idempotent re-sends").
        client_id = client_id or f"py-{uuid.uuid4().hex[:16]}"
        msg = {"op": "send", "text": text, "clientId": client_id}
        if to is not None:
            msg["to"] = to
        self.send_json(self.channels["chat"], msg)
        return client_id

    def say(self, text, to=None, timeout=10.0):
        """Send a chat message and wait for its ack (or the ERROR whose ref is its clientId)."""
        client_id = self.send_chat(text, to=to)
        return self.wait_for(lambda: self.acks.get(client_id) or self.failed.get(client_id), timeout)

    # ---- ending -----------------------------------------------------------------------------

    def bye(self):
        """Leave for good: BYE, then close."""
        if not self.closed:
            try:
                self.send_json(BYE, {"reason": "bye"})
            except OSError:
                pass
        self.close()

    def drop(self):
        """Close the socket abruptly, without BYE: the session waits for a resume."""
        if self.sock is not None and not self.closed:
            try:  # RST instead of FIN: as close to a network failure as a socket call gets
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.close()

    def close(self):
        self.closed = True
        self._stop.set()
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass


def main(argv=None):
    parser = argparse.ArgumentParser(description="Confab client over native TCP (JSON lines on stdout)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--name", default="python")
    parser.add_argument("--room", default="default")
    parser.add_argument("--say", nargs="+", action="extend", default=[], metavar="TEXT",
                        help="chat message(s) to send, each waiting for its ack")
    parser.add_argument("--to", default=None, help="send --say messages privately to this session id")
    parser.add_argument("--listen", type=float, default=0.0, metavar="SECONDS",
                        help="keep printing what arrives for this long (from WELCOME), then BYE")
    parser.add_argument("--drop-after", type=float, default=None, metavar="SECONDS",
                        help="after this long (from WELCOME), close the socket without BYE")
    parser.add_argument("--resume", default=None, metavar="TOKEN", help="resume token of the newest WELCOME")
    parser.add_argument("--received", type=int, default=0, metavar="N",
                        help="numbered frames received so far in the session (with --resume)")
    parser.add_argument("--ack-timeout", type=float, default=10.0, metavar="SECONDS")
    args = parser.parse_args(argv)

    def emit(event):
        print(json.dumps(event, ensure_ascii=False), flush=True)

    client = ConfabClient(args.host, args.port, on_event=emit)
    try:
        client.connect(args.name, args.room, resume=args.resume, received=args.received)
    except ConfabError as err:
        if not err.body:  # an ERROR frame from the server was already printed
            emit({"event": "error", "code": err.code, "message": str(err), "fatal": True})
        return 1
    except OSError as err:
        emit({"event": "error", "code": "CONNECT_FAILED", "message": str(err), "fatal": True})
        return 1
    started = time.monotonic()

    status = 0
    try:
        for text in args.say:
            result = client.say(text, to=args.to, timeout=args.ack_timeout)
            if result is None:
                emit({"event": "error", "code": "ACK_TIMEOUT", "message": f"no ack for {text!r}",
                      "fatal": False})
                status = 1
            elif result.get("op") != "ack":
                status = 1  # the ERROR was already printed
            if client.closed:
                return 1

        end_after = args.drop_after if args.drop_after is not None else args.listen
        remaining = started + end_after - time.monotonic()
        if remaining > 0 and not client.poll(remaining):
            return 1  # the server ended the session (already printed)

        if args.drop_after is not None:
            client.drop()
            emit({"event": "dropped", "resume": client.resume_token, "received": client.received})
        else:
            client.bye()
            emit({"event": "left", "received": client.received})
    except KeyboardInterrupt:
        client.bye()
        emit({"event": "left", "received": client.received})
    finally:
        client.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
