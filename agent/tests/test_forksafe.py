"""forksafe: a lock another thread held when the program forked is free in the child, so the
agent's fork hooks (a pool worker's session, its diagnostics taken out) never hang there; a
re-entrant lock the forking thread holds itself stays its own."""
import os
import threading
import unittest
import warnings

from tasklens_agent import (forksafe, gil_share, inspection, looptime, saferepr, task_ids,
                            tasktime, threads, topview_stuck, usercode)

# The locks the agent's threads share, module by module (those of objects, the core's and the
# backends', are made by forksafe as the objects are).
MODULE_LOCKS = {
    "gil_share": gil_share._lock, "inspection": inspection._source_lock,
    "looptime": looptime._records_lock, "saferepr": saferepr._worker_lock,
    "task_ids": task_ids._id_lock, "tasktime": tasktime._lock, "threads": threads._lock,
    "topview_stuck": topview_stuck._lock, "usercode": usercode._lock,
}


def in_child(body):
    """Fork; run `body()` in the child, whose exit status is 0 if it returned true, 1 if
    false, 2 if it raised; the status, waited for at most 10 s (a hung child is killed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)     # 3.12+: forking with threads
        pid = os.fork()
    if pid == 0:
        try:
            os._exit(0 if body() else 1)
        except BaseException:
            os._exit(2)
    for _ in range(1000):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        threading.Event().wait(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return "hung"


class ForkSafeTest(unittest.TestCase):
    def hold_all(self, locks):
        """Another thread takes `locks` and keeps them until the test ends."""
        taken, done = threading.Event(), threading.Event()

        def holder():
            for lock in locks:
                lock.acquire()
            taken.set()
            done.wait()
            for lock in reversed(locks):
                lock.release()
        thread = threading.Thread(target=holder, daemon=True)
        thread.start()
        self.addCleanup(thread.join)
        self.addCleanup(done.set)
        self.assertTrue(taken.wait(5))

    def test_every_agent_lock_held_by_another_thread_is_free_in_the_child(self):
        locks = list(forksafe._made)
        for name, lock in MODULE_LOCKS.items():
            self.assertIn(lock, locks, "%s's lock is not made by forksafe" % name)
        self.hold_all(locks)

        def all_free():
            for lock in locks:
                if not lock.acquire(timeout=1):
                    return False
                lock.release()
            return True
        self.assertEqual(in_child(all_free), 0)

    def test_the_loop_records_lock_a_watchdog_held_does_not_hang_the_child(self):
        """The case seen: a worker forked while the parent's watchdog read the loop records."""
        looptime.use("test_forksafe")
        self.addCleanup(looptime.leave, "test_forksafe")
        self.hold_all([looptime._records_lock])

        def leave():
            looptime.leave("test_forksafe")
            return True
        self.assertEqual(in_child(leave), 0)

    def test_a_reentrant_lock_the_forking_thread_holds_stays_its_own(self):
        lock = forksafe.rlock()
        with lock:
            def still_mine():
                owned = lock._is_owned()
                lock.release()      # as the `with` around the fork does, in the child
                lock.acquire()
                return owned
            status = in_child(still_mine)
        self.assertEqual(status, 0)

    def test_a_plain_threading_lock_would_hang_the_child(self):
        """What forksafe is for: the same held lock made by `threading` stays held."""
        plain = threading.Lock()
        self.hold_all([plain])
        self.assertEqual(in_child(lambda: plain.acquire(timeout=0.5)), 1)


if __name__ == "__main__":
    unittest.main()
