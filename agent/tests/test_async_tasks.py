"""Tasks as threads: listing (ids stable, created/finished), the cap, task stacks with
awaited-by, the task table, values in suspended tasks, taskUnhandled and the raised filter."""
import sys
import time

from tests.async_support import HAVE_UVLOOP, TASK_ID_BASE, AsyncTestCase
from tests.harness import fixture, line_of, settrace_variant

WORKERS = fixture("async_workers.py")
KINDS = fixture("async_kinds.py")
MISC = fixture("async_misc.py")
TREE = fixture("async_tree.py")


def tasks_of(body):
    return {t["id"]: t["name"] for t in body["threads"] if t["id"] >= TASK_ID_BASE}


class AsyncTaskTests(AsyncTestCase):
    def test_tasks_listed_with_stable_ids_appear_and_disappear(self):
        s, tid = self.at(MISC, "many-ready", args=("many", "40"))
        body = s.request("threads")
        self.assertEqual(body["threads"][0]["name"], "MainThread")
        first = tasks_of(body)
        names = sorted(first.values())
        self.assertEqual(len(first), 41)
        self.assertIn("Task: main (Task-1)", names)
        self.assertIn("Task: sleeper (s0)", names)
        self.assertEqual(first[tid], "Task: main (Task-1)")
        self.assertEqual(tasks_of(s.request("threads")), first)
        s.request("setBreakpoints", {"source": {"path": MISC}, "breakpoints": [
            {"line": line_of(MISC, "many-half")}]})
        s.request("continue")
        s.stopped("breakpoint")
        later = tasks_of(s.request("threads"))
        self.assertEqual(len(later), 21)
        for task_id, name in later.items():   # the survivors kept their ids
            self.assertEqual(first[task_id], name)
        self.assertNotIn("Task: sleeper (s0)", later.values())

    def test_threads_cap_keeps_the_stopped_task(self):
        s, tid = self.at(MISC, "many-ready", args=("many", "40"))
        body = s.request("threads", {"maxTaskThreads": 5})
        shown = tasks_of(body)
        self.assertIn(tid, shown)
        self.assertLessEqual(len(shown), 6)
        self.assertEqual(body["tasksOmitted"], 41 - len(shown))
        self.assertNotIn("tasksOmitted", s.request("threads"))

    def test_stack_of_running_and_suspended_tasks_with_awaited_by(self):
        s, tid = self.at(WORKERS, "helper-first", "n == 2")
        frames = s.request("stackTrace", {"threadId": tid})["stackFrames"]
        self.assertEqual([f["name"] for f in frames],
                         ["helper", "worker", "awaited by Task: main (Task-1)", "main"])
        self.assertEqual(frames[2]["presentationHint"], "label")
        self.assertEqual(frames[3]["line"], line_of(WORKERS, "main-gather"))
        others = [t for t in tasks_of(s.request("threads")) if t != tid
                  and tasks_of(s.request("threads"))[t].startswith("Task: worker")]
        self.assertEqual(len(others), 2)
        for other in others:
            stack = s.request("stackTrace", {"threadId": other})["stackFrames"]
            self.assertEqual(stack[-2]["name"], "awaited by Task: main (Task-1)")
            self.assertTrue(all(not f.get("library") for f in stack))
            full = s.request("stackTrace", {"threadId": other, "justMyCode": False})
            top = full["stackFrames"][0]
            self.assertEqual((top["name"], top["presentationHint"]), ("sleep", "subtle"))

    def test_values_of_a_suspended_task_can_be_read_and_changed(self):
        s, tid = self.at(WORKERS, "worker-helper", "n == 1")
        threads = tasks_of(s.request("threads"))
        third = None
        for task_id, name in threads.items():
            if name.startswith("Task: worker") and task_id != tid:
                frame = next(f for f in s.request("stackTrace", {"threadId": task_id})[
                    "stackFrames"] if f["name"] == "worker")
                if self.local(s, frame["id"], "n") == "3":
                    third = frame
        self.assertIsNotNone(third)
        self.assertEqual(s.request("evaluate", {"expression": "n * 10", "frameId": third["id"],
                                                "context": "watch"})["result"], "30")
        scopes = s.request("scopes", {"frameId": third["id"]})["scopes"]
        s.request("setVariable", {"variablesReference": scopes[0]["variablesReference"],
                                  "name": "total", "value": "100"})
        s.request("continue")
        self.assertEqual(s.wait_event("programExited")["exitCode"], 0)
        self.assertIn("[3, 5, 107]", s.finish()[1])

    def test_awaited_by_through_task_group_and_await_task(self):
        s, tid = self.at(KINDS, "g-last", "n == 1")
        for task_id, name in tasks_of(s.request("threads")).items():
            if name.startswith("Task: grouped") and task_id != tid:
                stack = s.request("stackTrace", {"threadId": task_id})["stackFrames"]
                self.assertEqual([f["name"] for f in stack],
                                 ["grouped", "awaited by Task: main (Task-1)", "main"])
        s.close()
        s, tid = self.at(WORKERS, "worker-first", "n == 5")
        stack = s.request("stackTrace", {"threadId": tid})["stackFrames"]
        self.assertEqual([f["name"] for f in stack],
                         ["worker", "awaited by Task: main (Task-1)", "main"])
        self.assertEqual(stack[2]["line"], line_of(WORKERS, "main-await-task"))

    def test_task_table(self):
        # worker 1 in helper: workers 2 and 3 sleep till 0.04 and 0.06 s. (At worker 2's helper
        # worker 1's helper ends its sleep at the same 0.04 s: a slow machine ran it to its end.)
        s, tid = self.at(WORKERS, "helper-first", "n == 1")
        rows = {r["threadId"]: r for r in s.request("taskTable")["tasks"]}
        self.assertEqual(rows[tid]["state"], "running")
        self.assertEqual(rows[tid]["stack"][0]["name"], "helper")
        main = next(r for r in rows.values() if r["coroutine"] == "main")
        self.assertEqual(main["state"], "pending")
        self.assertIn("gather", main["waitingOn"])
        sleeping = [r for r in rows.values() if r["coroutine"] == "worker" and r["threadId"] != tid]
        self.assertEqual(len(sleeping), 2)
        for row in sleeping:
            self.assertEqual(row["awaitedBy"], [main["threadId"]])
            self.assertRegex(row["waitingOn"], r"asyncio\.sleep\(0\.0\d+\) until loop time")
            self.assertEqual((row["osThreadId"], row["threadIdOfLoop"]), (s.proc.pid, 1))

    def test_awaiters_are_direct_through_task_group_nested_gathers_and_shield(self):
        s, tid = self.at(TREE, "tree-ready")
        rows = s.request("taskTable")["tasks"]
        by_id = {r["threadId"]: r for r in rows}

        def label(row):
            return row["name"] if not row["name"].startswith("Task-") else row["coroutine"]
        edges = sorted("%s <- %s" % (label(r), label(by_id[a])) for r in rows
                       for a in r["awaitedBy"])
        self.assertEqual(edges, sorted(
            ["pair <- group", "nested <- group", "shield-owner <- group",
             "worker <- pair", "worker <- pair", "gather_pair <- nested", "worker <- nested",
             "worker <- gather_pair", "worker <- gather_pair",
             "inner-shielded <- shield-owner"]))
        pair_worker = next(r for r in rows if r["coroutine"] == "worker"
                           and label(by_id[r["awaitedBy"][0]]) == "pair")
        stack = s.request("stackTrace", {"threadId": pair_worker["threadId"]})["stackFrames"]
        self.assertEqual([f["name"] for f in stack if f.get("presentationHint") == "label"],
                         ["awaited by Task: gather_pair (pair)", "awaited by Task: group (group)"])
        inner = next(r for r in rows if r["name"] == "inner-shielded")
        stack = s.request("stackTrace", {"threadId": inner["threadId"]})["stackFrames"]
        self.assertEqual([f["name"] for f in stack],
                         ["leaf", "worker", "awaited by Task: shielded (shield-owner)", "shielded",
                          "awaited by Task: group (group)", "group"])

    def test_task_unhandled_stops_at_the_raise_in_the_task(self):
        s = self.launch_async(MISC, "unhandled")
        s.handshake()
        s.request("setExceptionBreakpoints", {"filters": ["taskUnhandled"]})
        s.start()
        st = s.stopped("exception")
        self.assertEqual(tasks_of(s.request("threads"))[st["threadId"]], "Task: fails (loose)")
        frame = s.top_frame(st["threadId"])
        self.assertEqual((frame["name"], frame["line"]), ("fails", line_of(MISC, "fail-raise")))
        self.assertEqual(self.local(s, frame["id"], "n"), "3")
        info = s.request("exceptionInfo", {"threadId": st["threadId"]})
        self.assertEqual((info["details"]["typeName"], info["breakMode"]),
                         ("ValueError", "unhandled"))
        self.finishes_without_stopping(s)   # not the gathered KeyError, not the cancel

    def test_raised_ignores_async_control_flow(self):
        s = self.launch_async(MISC, "raised")
        s.handshake()
        s.request("setExceptionBreakpoints", {"filters": ["raised"]})
        s.start()
        st = s.stopped("exception")
        frame = s.top_frame(st["threadId"])
        self.assertEqual(frame["line"], line_of(MISC, "raised-user"))
        self.finishes_without_stopping(s)

    def test_thread_and_stack_requests_are_fast_with_10000_tasks(self):
        s, tid = self.at(MISC, "many-ready", args=("many", "10000"))
        s.request("threads", {"maxTaskThreads": 100000})
        best_threads = best_stack = float("inf")
        for _ in range(3):
            body, took = self.timed(s, "threads", {"maxTaskThreads": 100000})
            best_threads = min(best_threads, took)
            other = body["threads"][-1]["id"]
            _, took = self.timed(s, "stackTrace", {"threadId": other})
            best_stack = min(best_stack, took)
        self.assertEqual(len(tasks_of(body)), 10001)
        # Not a speed test (a loaded machine makes any wall-clock limit flaky): a guard against
        # work that grows faster than the number of tasks, which would take seconds here (tens
        # of ms is the usual figure, printed below).
        self.assertLess(best_threads, 1.5)
        self.assertLess(best_stack, 0.5)
        sys.stderr.write(" [10,000 tasks: threads %.0f ms, stackTrace %.1f ms] "
                         % (best_threads * 1000, best_stack * 1000))

    def timed(self, s, command, args):
        started = time.perf_counter()
        body = s.request(command, args)
        return body, time.perf_counter() - started


globals().update(settrace_variant(AsyncTaskTests))

if HAVE_UVLOOP:
    class AsyncTaskUvloopTests(AsyncTaskTests):
        fixture_env = {"FIXTURE_UVLOOP": "1"}

    for _name in ("test_tasks_listed_with_stable_ids_appear_and_disappear",
                  "test_threads_cap_keeps_the_stopped_task",
                  "test_task_unhandled_stops_at_the_raise_in_the_task",
                  "test_raised_ignores_async_control_flow",
                  "test_thread_and_stack_requests_are_fast_with_10000_tasks"):
        setattr(AsyncTaskUvloopTests, _name, None)     # async_misc.py runs the default loop
