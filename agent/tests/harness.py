"""A tiny adapter for tests: a loopback server speaking the agent protocol to a real agent
started as `python launch.py --connect ...` in a subprocess.

One reader thread puts every message on a queue; tests then wait for responses and events in
the order they expect them, keeping the other messages for later waits.
"""
import json
import os
import queue
import secrets
import socket
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
AGENT_DIR = os.path.dirname(HERE)
LAUNCH = os.path.join(AGENT_DIR, "launch.py")
FIXTURES = os.path.join(HERE, "fixtures")
PYTHON = sys.executable
TIMEOUT = 10


def fixture(name):
    return os.path.join(FIXTURES, name)


def line_of(path, marker):
    """1-based line number of the line holding `# marker` in a fixture."""
    with open(path) as f:
        for n, text in enumerate(f, 1):
            if text.rstrip().endswith("# " + marker):
                return n
    raise AssertionError("marker %r not in %s" % (marker, path))


class ProtocolError(AssertionError):
    pass


class ProtocolClient:
    """The adapter side of one agent connection (`sock` already connected)."""

    def __init__(self, sock, token):
        self.sock = sock
        self.token = token
        self.inbox = queue.Queue()
        self.pending = []
        self.seq = 0
        threading.Thread(target=self._read, daemon=True).start()
        self.hello = self.wait_event("hello")

    def _read(self):
        f = self.sock.makefile("rb")
        try:
            for line in f:
                self.inbox.put(json.loads(line))
        except ConnectionResetError:
            pass    # the program went away with bytes unread: the end of the stream to a test
        finally:
            self.inbox.put(None)

    def send(self, msg):
        self.sock.sendall((json.dumps(msg) + "\n").encode())

    def _next(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise queue.Empty
        return self.inbox.get(timeout=remaining)

    def _take(self, match, timeout):
        for i, msg in enumerate(self.pending):
            if match(msg):
                return self.pending.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = self._next(deadline)
            except queue.Empty:
                raise ProtocolError("timed out; unmatched messages: %r" % self.pending[-10:])
            if msg is None:
                self.inbox.put(None)
                raise ProtocolError("connection closed; unmatched: %r" % self.pending[-10:])
            if match(msg):
                return msg
            self.pending.append(msg)

    def request_raw(self, command, arguments=None, timeout=TIMEOUT):
        self.seq += 1
        seq = self.seq
        self.send({"type": "request", "seq": seq, "command": command,
                   "arguments": arguments or {}})
        return self._take(lambda m: m.get("type") == "response" and m.get("request_seq") == seq,
                          timeout)

    def request(self, command, arguments=None, timeout=TIMEOUT):
        resp = self.request_raw(command, arguments, timeout)
        if not resp.get("success"):
            raise ProtocolError("%s failed: %s (%s)" % (command, resp.get("message"),
                                                        resp.get("error")))
        return resp.get("body", {})

    def wait_event(self, name, timeout=TIMEOUT, **fields):
        def match(m):
            if m.get("type") != "event" or m.get("event") != name:
                return False
            body = m.get("body", {})
            return all(body.get(k) == v for k, v in fields.items())
        return self._take(match, timeout)["body"]

    def events(self, name):
        """Events of this name received so far and not consumed."""
        out = []
        while True:
            try:
                msg = self.inbox.get_nowait()
            except queue.Empty:
                break
            if msg is None:
                self.inbox.put(None)
                break
            self.pending.append(msg)
        for m in list(self.pending):
            if m.get("type") == "event" and m.get("event") == name:
                out.append(m["body"])
                self.pending.remove(m)
        return out

    # --- common sequences ---
    def handshake(self, **configure):
        self.request("handshake", {"token": self.token, "protocol": 1})
        config = {"justMyCode": True, "stopOnEntry": False, "terminateOnDisconnect": False}
        config.update(configure)
        self.request("configure", config)

    def start(self):
        self.request("start")

    def stopped(self, reason=None, timeout=TIMEOUT):
        body = self.wait_event("stopped", timeout=timeout)
        if reason is not None and body["reason"] != reason:
            raise ProtocolError("stopped for %r, expected %r: %r" % (body["reason"], reason,
                                                                     body))
        return body

    def top_frame(self, thread_id):
        return self.request("stackTrace", {"threadId": thread_id})["stackFrames"][0]

    def locals(self, frame_id):
        scopes = self.request("scopes", {"frameId": frame_id})["scopes"]
        ref = scopes[0]["variablesReference"]
        return {v["name"]: v for v in self.request("variables",
                                                   {"variablesReference": ref})["variables"]}

    def disconnect(self):
        """Drop the connection the way a killed adapter does."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
        except OSError:
            pass


class AgentSession(ProtocolClient):
    """A real agent started as `python launch.py --connect ...`, and its connection."""

    def __init__(self, program_args, env=None, token=None, cwd=None):
        server = socket.create_server(("127.0.0.1", 0))
        port = server.getsockname()[1]
        token = token or secrets.token_hex(8)
        full_env = dict(os.environ)
        full_env["TASKLENS_TOKEN"] = token
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = value
        self.proc = subprocess.Popen(
            [PYTHON, LAUNCH, "--connect", "127.0.0.1:%d" % port] + list(program_args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, cwd=cwd)
        self.stdout, self.stderr = [], []
        for stream, sink in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr)):
            threading.Thread(target=self._drain, args=(stream, sink), daemon=True).start()
        server.settimeout(TIMEOUT)
        try:
            sock, _ = server.accept()
        finally:
            server.close()
        super().__init__(sock, token)

    @staticmethod
    def _drain(stream, sink):
        try:
            for chunk in iter(lambda: stream.read1(65536), b""):
                sink.append(chunk)
        except ValueError:  # the test closed the pipe (ending the process) while this read
            pass

    def finish(self, timeout=TIMEOUT):
        """Wait for the process to end; returns (exit code, stdout text, stderr text)."""
        code = self.proc.wait(timeout)
        time.sleep(0.05)
        return code, b"".join(self.stdout).decode(), b"".join(self.stderr).decode()

    def close(self):
        self.disconnect()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()


class AgentTestCase(unittest.TestCase):
    backend_env = {}

    def launch(self, *program_args, **kw):
        kw["env"] = {**self.backend_env, **(kw.get("env") or {})}
        session = AgentSession(list(program_args), **kw)
        if self.backend_env:
            self.assertEqual(session.hello["backend"], "settrace")
        self.addCleanup(session.close)
        return session

    def run_to(self, fixture_name, marker, *args, **configure):
        """Launch a fixture with one breakpoint at `marker`; return (session, stopped body)."""
        path = fixture(fixture_name)
        s = self.launch(path, *args)
        s.handshake(**configure)
        bps = s.request("setBreakpoints", {"source": {"path": path},
                                           "breakpoints": [{"line": line_of(path, marker)}]})
        self.assertTrue(bps["breakpoints"][0]["verified"], bps)
        s.start()
        return s, s.stopped("breakpoint")


def settrace_variant(cls):
    """On 3.12+ (monitoring by default) also run a test class with the settrace backend."""
    if sys.version_info < (3, 12):
        return {}
    name = cls.__name__ + "Settrace"
    return {name: type(name, (cls,), {"backend_env": {"TASKLENS_BACKEND": "settrace"},
                                 "__module__": cls.__module__})}
