"""The discovery file in every mode, gone on every exit the agent sees, and signals that keep
plain python's meaning (an ignored SIGHUP stays ignored; SIGTERM kills)."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from tests.harness import LAUNCH, PYTHON, AgentSession, ProtocolClient, fixture

TIMEOUT = 10


def discovery_files(runtime):
    folder = os.path.join(runtime, "tasklens")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def wait_for_file(path):
    deadline = time.monotonic() + TIMEOUT
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise AssertionError("no discovery file %s" % path)
        time.sleep(0.02)
    time.sleep(0.05)
    with open(path) as f:
        return json.load(f)


class RunModeExitTests(unittest.TestCase):
    def setUp(self):
        self.runtime = tempfile.mkdtemp()
        self.env = dict(os.environ, XDG_RUNTIME_DIR=self.runtime)

    def start(self, *program, ignore=()):
        def child_setup():
            for signum in ignore:
                signal.signal(signum, signal.SIG_IGN)
        proc = subprocess.Popen([PYTHON, LAUNCH, "--"] + list(program), env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=child_setup)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        self.addCleanup(proc.communicate)
        wait_for_file(os.path.join(self.runtime, "tasklens", "%d.json" % proc.pid))
        return proc

    def test_sigterm_and_sighup_kill_by_the_signal_and_remove_the_file(self):
        for signum in (signal.SIGTERM, signal.SIGHUP):
            flag = os.path.join(tempfile.mkdtemp(), "never")
            proc = self.start(fixture("wait_for_file.py"), flag)
            proc.send_signal(signum)
            self.assertEqual(proc.wait(TIMEOUT), -signum)
            self.assertEqual(discovery_files(self.runtime), [])

    def test_an_ignored_sighup_stays_ignored(self):
        flag = os.path.join(tempfile.mkdtemp(), "go")
        proc = self.start(fixture("wait_for_file.py"), flag, ignore=(signal.SIGHUP,))
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        self.assertIsNone(proc.poll(), "SIGHUP was ignored, as by plain python under nohup")
        open(flag, "w").close()
        self.assertEqual(proc.wait(TIMEOUT), 0)
        self.assertEqual(discovery_files(self.runtime), [])

    def test_uncaught_exception_removes_the_file(self):
        done = subprocess.run([PYTHON, LAUNCH, "--", fixture("crash_nested.py")], env=self.env,
                              capture_output=True, timeout=TIMEOUT)
        self.assertEqual(done.returncode, 1)
        self.assertTrue(os.path.isdir(os.path.join(self.runtime, "tasklens")), "it was written")
        self.assertEqual(discovery_files(self.runtime), [])

    def test_listen_on_a_port_in_use_is_one_line_with_status_2(self):
        taken = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(taken.close)
        port = taken.getsockname()[1]
        done = subprocess.run([PYTHON, LAUNCH, "--listen", "127.0.0.1:%d" % port, "--",
                               fixture("show_env.py")], env=self.env, capture_output=True,
                              timeout=TIMEOUT)
        self.assertEqual(done.returncode, 2)
        self.assertEqual(done.stdout, b"")
        self.assertRegex(done.stderr.decode(),
                         r"^tasklens: cannot listen on 127\.0\.0\.1:%d: the port is in use; [^\n]*\n$"
                         % port)

    def test_listen_elsewhere_than_loopback_is_refused(self):
        done = subprocess.run([PYTHON, LAUNCH, "--listen", "0.0.0.0:0", "--",
                               fixture("show_env.py")], env=self.env, capture_output=True,
                              timeout=TIMEOUT)
        self.assertEqual(done.returncode, 2)
        self.assertRegex(done.stderr.decode(), r"^tasklens: --listen binds loopback addresses "
                                               r"only .*forward the port[^\n]*\n$")


class ConnectModeDiscoveryTests(unittest.TestCase):
    def test_launched_program_serves_read_only_clients_and_removes_its_file(self):
        runtime = tempfile.mkdtemp()
        s = AgentSession([fixture("wait_for_file.py"), os.path.join(runtime, "never")],
                         env={"XDG_RUNTIME_DIR": runtime})
        self.addCleanup(s.close)
        s.handshake()
        s.start()
        info = wait_for_file(os.path.join(runtime, "tasklens", "%d.json" % s.proc.pid))
        reader = ProtocolClient(socket.create_connection((info["host"], info["port"]),
                                                         timeout=TIMEOUT), info["token"])
        self.addCleanup(reader.disconnect)
        self.assertTrue(reader.request_raw("handshake", {"token": info["token"], "protocol": 1,
                                                         "readOnly": True})["success"])
        self.assertEqual([t["name"] for t in reader.request("threads")["threads"]],
                         ["MainThread"])
        other = ProtocolClient(socket.create_connection((info["host"], info["port"]),
                                                        timeout=TIMEOUT), info["token"])
        self.addCleanup(other.disconnect)
        answer = other.request_raw("handshake", {"token": info["token"], "protocol": 1})
        self.assertFalse(answer["success"])
        reader.disconnect()
        other.disconnect()
        time.sleep(0.2)
        self.assertIsNone(s.proc.poll(), "clients of the read-only listener leave it running")
        s.proc.send_signal(signal.SIGTERM)
        self.assertEqual(s.proc.wait(TIMEOUT), -signal.SIGTERM)
        self.assertEqual(discovery_files(runtime), [])

    def test_lost_adapter_after_start_ends_the_program_and_removes_its_file(self):
        runtime = tempfile.mkdtemp()
        s = AgentSession([fixture("wait_for_file.py"), os.path.join(runtime, "never")],
                         env={"XDG_RUNTIME_DIR": runtime})
        self.addCleanup(s.close)
        s.handshake()
        s.start()
        wait_for_file(os.path.join(runtime, "tasklens", "%d.json" % s.proc.pid))
        s.disconnect()
        self.assertEqual(s.finish()[0], 1)
        self.assertEqual(discovery_files(runtime), [])


if __name__ == "__main__":
    unittest.main()
