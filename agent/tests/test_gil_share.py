"""gil_share: the agent's threads get turns of the GIL while they answer, even against a loop
that runs ready tasks back to back and never sleeps; the program pays nothing once no answer is
in progress, and its own switch interval comes back."""
import _socket
import asyncio
import os
import socket
import sys
import threading
import time
import unittest
from unittest import mock

from tasklens_agent import gil_share, tasks as taskmod

HOPPERS = 200       # without turns, 200 system calls of a waiting thread took 0.3 s to 5 s and more
DEADLINE_S = 1.0    # with turns they take a few milliseconds
ROUNDS = 10         # answers in a row: one in three or so lost its turns before they were fixed


def hot_loop(body, hoppers=HOPPERS, runner=asyncio.run, setup=None):
    """Run `body(loop)` (a blocking function, on a thread of its own) while `hoppers` tasks hop
    on a loop on this thread; its result, and how many hops the tasks made. `setup(loop)` runs
    on the loop first. The body begins holding the GIL, once the loop has run hot for a while
    (as an answer begins once its request is read); from its first wait on, it waits for the
    loop like the agent's threads."""
    out = {}
    go, begun = threading.Event(), threading.Event()

    async def hopper():
        while "done" not in out:
            out["hops"] = out.get("hops", 0) + 1
            await asyncio.sleep(0)

    def hand_over():
        """On the loop: the body's thread gets the GIL once, whatever the race."""
        go.set()
        while not begun.is_set():
            time.sleep(0.0002)

    def work(loop):
        go.wait()
        begun.set()
        try:
            out["result"] = body(loop)
        except BaseException as e:    # handed to the test's thread
            out["error"] = e
        finally:
            out["done"] = True

    async def main():
        loop = asyncio.get_running_loop()
        taskmod._running[threading.get_ident()] = loop  # as the agent's loop hook records it
        if setup is not None:
            setup(loop)
        try:
            hops = [asyncio.ensure_future(hopper()) for _ in range(hoppers)]
            thread = threading.Thread(target=work, args=(loop,), daemon=True)
            thread.start()
            loop.call_later(0.2, hand_over)     # the loop runs hot meanwhile
            await asyncio.gather(*hops)
            thread.join()
            for _ in range(3):      # a few iterations more: the turns see no answer
                await asyncio.sleep(0)
        finally:
            taskmod._running.pop(threading.get_ident(), None)

    runner(main())
    if "error" in out:
        raise out["error"]
    return out.get("result"), out.get("hops", 0)


def stats(n):
    """An answer's many small system calls (each lets go of the GIL and wants it back)."""
    start = time.monotonic()
    for _ in range(n):
        os.stat(os.curdir)
        if time.monotonic() - start > DEADLINE_S:
            return None
    return time.monotonic() - start


class TurnsTest(unittest.TestCase):
    def setUp(self):
        self.assertEqual((gil_share._claims, gil_share._open), (0, 0))
        self.addCleanup(sys.setswitchinterval, sys.getswitchinterval())

    def test_an_answer_gets_its_turns_against_a_loop_that_never_sleeps(self):
        def answer(loop):
            with gil_share.sharing():
                posted = id(loop) in gil_share._posted
                return stats(200), posted
        (took, posted), hops = hot_loop(answer)
        self.assertTrue(posted, "no turn was posted to the busy loop")
        self.assertIsNotNone(took, "200 system calls took more than %s s" % DEADLINE_S)
        self.assertGreater(hops, HOPPERS, "the loop did not run meanwhile")

    def test_the_turns_end_with_the_answer(self):
        def answer(loop):
            with gil_share.sharing():
                stats(10)
            return loop
        loop, _ = hot_loop(answer, hoppers=20)
        self.assertEqual(gil_share._posted, set(), "a turn stayed queued after the answer")

    def test_answers_in_a_row_on_an_open_connection_each_get_their_turns(self):
        """Between answers the interval is short; an answer that loses the GIL while it queues
        its turns gets it back as soon, not at the loop's whim (4-15 s seen, `top` against
        2000 hopping tasks)."""
        def answers(loop):
            gil_share.opened()
            try:
                took = []
                for _ in range(ROUNDS):
                    time.sleep(0.05)    # no answer: the last one's turns leave
                    start = time.monotonic()
                    with gil_share.sharing():
                        if stats(20) is None:
                            return None
                    took.append(time.monotonic() - start)
                return took
            finally:
                gil_share.closed()
        took, _ = hot_loop(answers, hoppers=2000)
        self.assertIsNotNone(took, "an answer of 20 system calls took more than %s s" % DEADLINE_S)
        self.assertLess(max(took), DEADLINE_S, "answers took %s s" % ["%.3f" % t for t in took])

    def test_an_idle_loop_woken_during_an_answer_is_not_held_by_the_turn(self):
        """A loop with nothing ready waits in select without the GIL. Woken during an answer
        (a timer), it runs what woke it and goes back to waiting: the turn never sleeps there
        (each sleep makes the loop wait for the GIL once more) and leaves."""
        loop_sleeps = []
        real_sleep = time.sleep

        def sleep(seconds):
            if threading.get_ident() == loop_thread:
                loop_sleeps.append(seconds)
            real_sleep(seconds)

        async def main():
            loop = asyncio.get_running_loop()
            taskmod._running[threading.get_ident()] = loop
            left = threading.Event()

            def answer():
                real_sleep(0.05)    # the loop waits in select for its timer by now
                with gil_share.sharing():
                    posted = id(loop) in gil_share._posted
                    for _ in range(50):     # the answer goes on; the loop wakes for its timer
                        real_sleep(0.01)
                        if id(loop) not in gil_share._posted:
                            left.set()
                            break
                return posted
            try:
                timer = loop.call_later(0.1, lambda: None)      # wakes the loop once
                posted = await loop.run_in_executor(None, answer)
                timer.cancel()
            finally:
                taskmod._running.pop(threading.get_ident(), None)
            return posted, left.is_set()
        loop_thread = threading.get_ident()
        with mock.patch.object(gil_share.time, "sleep", sleep):
            posted, left = asyncio.run(main())
        self.assertTrue(posted, "no turn was posted")
        self.assertTrue(left, "the turn stayed on an idle loop during the answer")
        self.assertEqual(loop_sleeps, [], "the turn slept on a loop that had just woken")

    def test_uvloop_gets_its_turns_through_call_soon_threadsafe(self):
        try:
            import uvloop
        except ImportError:
            self.skipTest("uvloop is not installed for this interpreter")

        def answer(loop):
            with gil_share.sharing():
                return stats(200), id(loop) in gil_share._posted
        (took, posted), _ = hot_loop(answer, runner=uvloop.run)
        self.assertTrue(posted)
        self.assertIsNotNone(took, "200 system calls took more than %s s" % DEADLINE_S)
        self.assertEqual(gil_share._posted, set())


class SwitchIntervalTest(unittest.TestCase):
    def setUp(self):
        self.program = sys.getswitchinterval()
        self.addCleanup(sys.setswitchinterval, self.program)

    def test_short_while_a_connection_waits_the_programs_own_during_an_answer(self):
        gil_share.opened()
        try:
            self.assertAlmostEqual(sys.getswitchinterval(), gil_share.WAIT_INTERVAL_S)
            with gil_share.sharing():
                self.assertAlmostEqual(sys.getswitchinterval(), self.program)
            self.assertAlmostEqual(sys.getswitchinterval(), gil_share.WAIT_INTERVAL_S)
        finally:
            gil_share.closed()
        self.assertAlmostEqual(sys.getswitchinterval(), self.program)

    def test_an_answer_without_a_connection_leaves_the_interval_alone(self):
        with gil_share.sharing():
            self.assertAlmostEqual(sys.getswitchinterval(), self.program)
        self.assertAlmostEqual(sys.getswitchinterval(), self.program)

    def test_a_program_that_sets_its_own_interval_keeps_it(self):
        gil_share.opened()
        sys.setswitchinterval(0.002)
        gil_share.closed()
        self.assertAlmostEqual(sys.getswitchinterval(), 0.002)


class ListenerTest(unittest.TestCase):
    """Under `tasklens run` each loop watches the agent's listening socket: a connection waiting
    there makes the loop let go of the GIL until the listener thread has accepted it."""

    def setUp(self):
        self.server = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        self.addCleanup(self.server.close)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        saved = gil_share.listener_fd, gil_share._listener_pid

        def restore():
            gil_share.listener_fd, gil_share._listener_pid = saved
            gil_share._watching.clear()
            gil_share._calm_until = 0.0
        self.addCleanup(restore)
        gil_share.watch_listener(self.server.fileno())

    def connect(self):
        client = socket.create_connection(self.server.getsockname()[:2])
        self.addCleanup(client.close)

    def test_a_loop_watches_the_listener_once(self):
        async def main():
            loop = asyncio.get_running_loop()
            gil_share.loop_started(loop)
            gil_share.loop_started(loop)
            return [key.fd for key in loop._selector.get_map().values()]
        fds = asyncio.run(main())
        self.assertEqual(fds.count(self.server.fileno()), 1)

    def test_a_connection_is_accepted_against_a_loop_that_never_sleeps(self):
        def knock(loop):
            """From the loop's thread, as another process would: the listener thread waits in
            accept by then."""
            client = socket.socket()
            self.addCleanup(client.close)
            client.setblocking(False)
            client.connect_ex(self.server.getsockname()[:2])

        def setup(loop):
            gil_share.loop_started(loop)
            loop.call_later(0.3, knock, loop)

        def listener(loop):
            start = time.monotonic()
            fd = gil_share.accept(self.server)
            try:
                _socket.socket(fileno=fd).close()
                return stats(200), time.monotonic() - start
            finally:
                gil_share.release()
        (took, _), hops = hot_loop(listener, setup=setup)
        self.assertIsNotNone(took, "200 system calls after the accept took more than %s s"
                             % DEADLINE_S)
        self.assertEqual(gil_share._claims, 0)

    def test_a_connection_nobody_accepts_holds_the_loop_only_briefly(self):
        """The reader waits at most KNOCK_WAIT_S, then leaves the loop alone for a second."""
        async def main():
            loop = asyncio.get_running_loop()
            gil_share.loop_started(loop)
            self.connect()      # and no thread accepts it
            start, turns = time.monotonic(), 0
            while time.monotonic() - start < 0.5:
                await asyncio.sleep(0)
                turns += 1
            loop.remove_reader(self.server.fileno())
            return turns
        turns = asyncio.run(main())
        self.assertGreater(turns, 1000, "the loop was held while nobody accepted")


if __name__ == "__main__":
    unittest.main()
