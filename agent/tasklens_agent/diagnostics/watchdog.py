"""The watchdog thread: samples every watched loop and decides when a diagnostic is due.

One agent thread (invisible to the program) wakes every tick (a fifth of the blocked-loop
threshold, at most 20 ms) and reads, without stopping anything: the loop threads' stacks
(blocked.py, and only while a loop is not inside select()), finished tasks (lost.py); every
few seconds the waits of every pending task (looptime.sample_waits), then only the tasks that
newly waited past 1 s (wait cycles) or past the stuck threshold, a look it posts to the loop's
own thread (onloop.py: its heap walks could break a tuple the program is building) and reports
from a later tick; and, when a loop sleeps with no timeout, whether anything at all could wake
it (deadlock: judged here, while the loop's thread sleeps in select()). Its CPU time is the
program's too (it holds the GIL while it works), so what grows with the number of tasks is
rate-limited by its own cost (SAMPLE_SHARE). Nothing is reported while the debugger has the
program paused. A C call that keeps the GIL delays it.
"""
import sys
import time
import weakref

from .. import gil_share
from .. import looptime
from ..threads import other_frames
from . import alike
from . import lost as lost_mod
from . import onloop
from . import report as rp
from . import table
from . import verdicts
from . import wait_text
from . import waits as wm
from .blocked import BlockedWatch
from .lost import LostWatch

IDLE_BEFORE_VERDICT = 0.5   # seconds a loop sleeps with no timeout before it is examined
RECHECK = 1.0
IDLE_TICK = 0.03
SAMPLE_SHARE = 100          # the waits sample waits this many times its own CPU time


class Watchdog:
    def __init__(self, core, reporter, slow, stuck):
        self.core = core
        self.reporter = reporter
        self.stuck = stuck
        self.blocked = BlockedWatch(reporter, slow)
        self.lost = LostWatch(reporter)
        self.tick_s = max(0.005, min(0.02, slow / 5))
        # While every loop sleeps in select() and no finished task awaits its verdict, ticks
        # come less often (a tick costs ~0.1 ms of CPU, most of it waking up). The latency
        # budget still holds: a step that starts during a long sleep is dated from the loop's
        # own wake-up time (blocked.py), so it is reported at most IDLE_TICK / 2 + tick_s late
        # (threshold + 50 ms); a task that fails then is dated as it fails (lost.py) and
        # reported at the first tick GRACE after that (under 100 ms).
        self.idle_tick_s = max(self.tick_s, IDLE_TICK)
        self.sleeping = False
        self.waits_every = max(0.25, min(stuck / 4, 2.5))
        self.next_waits = 0.0
        self.failures = 0
        self.running = True     # cleared by diagnostics.stop: the thread ends
        self.examining = {}     # id(loop record) -> (record, onloop.Job): a look at its waits
        self.next_look = {}     # id(loop record) -> monotonic time its next look may be posted
        self.later = []         # (monotonic time, function): run by the first tick after it

    def run(self):
        prev = time.monotonic()
        while self.running:
            time.sleep(self.idle_tick_s if self.sleeping else self.tick_s)
            now = time.monotonic()
            try:
                self.tick(now, prev)
            except Exception as e:     # a program that bends asyncio: say it once, go on
                self.failures += 1
                if self.failures == 1:
                    self.reporter.emit("notice", "tasklens: notice: diagnostics are degraded "
                                       "(%s: %s)" % (type(e).__name__, e), {})
            prev = now

    def final(self):
        """At exit (atexit, after the program's own handlers): what ended meanwhile."""
        now = time.monotonic()
        try:
            self.tick(now, now)
            self.lost.tick(now + lost_mod.GRACE)
        except Exception:
            pass

    def tick(self, now, prev):
        while self.later and self.later[0][0] <= now:
            self.later.pop(0)[1]()
        core = self.core
        paused = bool(core is not None and (core.stopped or core.pause_requested))
        recs = looptime.records(keep_closed=True)
        if recs:
            # Stacks only when a loop is not inside select(): an idle program's tick reads none.
            frames = other_frames() if any(not r.idle and not r.closed for r in recs) \
                else {}
            for rec in recs:
                top = None if rec.closed else frames.get(rec.ident)
                self.blocked.tick(rec, top, now, prev, paused)
            del frames
            for rec in recs:
                if rec.closed:
                    self.next_look.pop(id(rec), None)
            recs = [r for r in recs if not r.closed]
        self.lost.tick(now)
        self.sleeping = all(r.selector and r.idle for r in recs) and self.lost.settled()
        if paused:
            return
        self._examined(now)
        for rec in recs:
            if rec.selector and rec.idle and rec.timeout is None:
                self._idle(rec, now)
        if now >= self.next_waits:
            spent = time.thread_time()
            for rec in recs:
                self._waits(rec, now)
            # Rate-limited by its own cost: with many tasks a sample takes longer, and the
            # watchdog then samples less often rather than take more of the program's time.
            spent = time.thread_time() - spent
            self.next_waits = now + max(self.waits_every, spent * SAMPLE_SHARE)

    # --- deadlock ---
    def _idle(self, rec, now):
        if now - rec.idle_since < IDLE_BEFORE_VERDICT or rec.deadlock_iteration == rec.iterations \
                or now - rec.deadlock_checked < RECHECK:
            return
        rec.deadlock_checked = now
        iteration = rec.iterations
        verdict = self._verdict(rec)
        if verdict is None or rec.iterations != iteration or not rec.idle:
            return
        rec.deadlock_iteration = iteration
        likely, tasks = verdict
        if likely and len(verdicts.Judge(rec.loop, rec.ident, tasks, self.lost.failed_using)
                          .hopeless(tasks)) < len(tasks):
            return      # a signal handler holds what a task waits on (a shutdown Event)
        # The same tasks on the same futures: the deadlock told already. A debugger's stop on it
        # wakes the loop once (an iteration), which must not make it a new one at each continue.
        key = frozenset((id(t), id(getattr(t, "_fut_waiter", None))) for t in tasks)
        if key == rec.deadlock_key:
            return
        rec.deadlock_key = key
        waits = wm.build(tasks, self.lost.failed_using)
        self._report_deadlock(rec, waits, likely, whole_loop=True)

    def _verdict(self, rec):
        """(likely, pending tasks) when nothing can wake the sleeping loop, else None."""
        loop = rec.loop
        if loop is None or loop._ready or loop._scheduled:
            return None
        own = (getattr(getattr(loop, "_ssock", None), "fileno", lambda: -1)(),
               gil_share.listener_fd)   # the loop's wake-up socket, the agent's listener
        for key in list(loop._selector.get_map().values()):
            if key.fd not in own:
                return None     # a reader or writer: I/O can wake it
        if verdicts.wakers(rec.ident):
            return None
        tasks = self._pending(loop)
        if not tasks:
            return None
        return bool(getattr(loop, "_signal_handlers", None)), tasks

    def _pending(self, loop):
        mod = sys.modules.get("asyncio.tasks")
        for _ in range(3):
            try:
                return [t for t in mod.all_tasks(loop) if not t.done()]
            except RuntimeError:
                continue
        return []

    def _report_deadlock(self, rec, waits, likely, whole_loop, cycles=None):
        thread = rp.thread_name(rec.ident)
        cycles = wm.cycles(waits, weak=True) if cycles is None else cycles
        lines = ["cycle: " + wait_text.cycle_text(c) for c in cycles]
        in_cycles = {id(w.task) for c in cycles for w in c}
        rest = alike.groups((w for w in waits.values() if id(w.task) not in in_cycles),
                            order=lambda w: w.kind in ("gather", "task"))
        ordered = [w for c in cycles for w in c] + [w for group in rest for w in group]
        lines.extend(wait_text.line_of(w) for c in cycles for w in c)
        lines.extend(wait_text.line_of(group[0], group) for group in rest)
        failed = self.lost.failed_infos()
        lines.extend("%s failed earlier with %s at %s" % (rp.task_text(i), i["failure"],
                                                           i["failedAt"]) for i in failed[:5])
        if whole_loop:
            first = "%sdeadlock: %s of the event loop in thread %s %s waiting and nothing " \
                "can wake %s" % ("likely " if likely else "",
                                 "all %d tasks" % len(waits) if len(waits) > 1 else "the one task",
                                 thread, "are" if len(waits) > 1 else "is",
                                 "them" if len(waits) > 1 else "it")
            if likely and rec.selector:
                lines.append("likely: a signal handler of the loop could still wake it")
            elif likely:
                lines.append("likely: this loop (%s) does not show its timers and I/O; no "
                             "task has been woken for %.1f s" % (type(rec.loop).__module__,
                                                                  self.stuck))
        else:
            names = ", ".join(w.info["name"] for w in ordered if id(w.task) in in_cycles)
            first = "deadlock: tasks %s of the event loop in thread %s wait on each other" \
                % (names, thread)
        fields = {"thread": thread, "likely": likely, "wholeLoop": whole_loop,
                  "cycles": [[w.info["threadId"] for w in c] for c in cycles],
                  "tasks": [wait_text.as_json(w) for w in ordered]}
        table.remember(rec, {"message": first, "thread": thread, "likely": likely,
                             "wholeLoop": whole_loop, "tasks": [w.info["threadId"] for w in ordered],
                             "cycles": fields["cycles"]}, [w.task for w in ordered])
        self.reporter.emit("deadlock", rp.block(first, lines), context=(rec, ordered),
                           fields=fields)

    # --- stuck tasks and wait cycles ---
    def _waits(self, rec, now):
        """Sample every pending task's wait (one cheap pass), then look only at the tasks that
        crossed a threshold since the previous sample: a wait cycle closes when its last task
        starts waiting, so a new cycle always holds a task that has newly waited 1 s. Looking
        walks the heap: it is posted to the loop's thread (onloop.py) and its findings are
        reported by a later tick; meanwhile the tasks that cross a threshold wait their turn."""
        loop = rec.loop
        if loop is None:
            return
        tasks = self._pending(loop)
        looptime.sample_waits(rec, tasks, now)
        # The last look has not run yet, or the next must wait (onloop.next_post): the next
        # one covers this sample's.
        if self.examining.get(id(rec)) is not None or now < self.next_look.get(id(rec), 0.0):
            return
        prev, rec.waits_sampled = rec.waits_sampled, now
        if rec.deadlock_iteration == rec.iterations and rec.idle:
            return      # reported as a deadlock already
        long_after = min(1.0, self.stuck)
        fresh, stuck = [], []
        for key, entry in rec.waits.items():
            since = entry[1]
            if now - since < long_after:
                continue
            if prev - since < long_after:
                fresh.append(key())
            if not entry[2] and now - since >= self.stuck:
                stuck.append(key())
        fresh = [t for t in fresh if t is not None]
        in_cycles = set().union(*rec.cycles_reported) if rec.cycles_reported else set()
        stuck = [t for t in stuck if t is not None and id(t._fut_waiter) not in in_cycles]
        for task in stuck:
            rec.waits[_key(task)][2] = CHECKED     # looked at once per wait
        if fresh or stuck:
            job = onloop.post(loop, verdicts.examine, rec, fresh, stuck, tasks, long_after,
                              self.lost.failed_using_now())
            if job is not None:
                self.examining[id(rec)] = (rec, job)

    def _examined(self, now):
        """Report what the looks posted to the loops found, once they have run."""
        for key, (rec, job) in list(self.examining.items()):
            if rec.closed and not job.done:
                del self.examining[key]     # its loop will not run the look
                continue
            if not job.done:
                continue
            del self.examining[key]
            self.next_look[key] = onloop.next_post(job)
            if job.error is not None:
                raise job.error
            cycles, hopeless, pending = job.result
            for waiters, full in cycles:
                if waiters not in rec.cycles_reported:
                    rec.cycles_reported.add(waiters)
                    self._report_deadlock(rec, full, False, whole_loop=False,
                                          cycles=[list(full.values())])
            if hopeless:
                self._stuck(rec, hopeless, now, pending)

    def _stuck(self, rec, hopeless, now, pending):
        """Report the Waits of `hopeless` (of `pending` tasks judged) still waiting where they
        were judged: the program ran on since."""
        since = {id(w.task): looptime.waited_since(w.task) for w in hopeless}
        hopeless = [w for w in hopeless if since[id(w.task)] is not None]
        if not hopeless:
            return
        for w in hopeless:
            entry = rec.waits.get(_key(w.task))
            if entry is not None:
                entry[2] = True     # what ps shows as stuck
        if not rec.selector and len(hopeless) == pending:
            # uvloop shows no ready queue, timers or I/O: every task waiting on what no one
            # can complete is the most that can be said.
            full = {id(w.task): w for w in hopeless}
            self._report_deadlock(rec, full, True, whole_loop=True)
            return
        lost_in = {id(w.task) for w in hopeless}
        told = [w for w in hopeless if not (w.kind in ("gather", "task") and w.edges and all(
            id(t) in lost_in for t, _ in w.edges))]    # the rest wait on a stuck task, told
        before = {id(w.task): looptime.waited_before(w.task, since[id(w.task)]) for w in told}
        for group in alike.groups(told, lambda w: before[id(w.task)]):
            self._report_stuck(rec, group, {id(w.task): now - since[id(w.task)] for w in group},
                               before[id(group[0].task)])

    def _report_stuck(self, rec, group, waited, before):
        """One report for the Waits of `group`, alike (alike.py); `waited`: seconds by task;
        `before`: an attach found them waiting already."""
        w = group[0]
        secs = sorted(waited.values())
        span = "%.1f s" % secs[0] if "%.1f" % secs[0] == "%.1f" % secs[-1] \
            else "%.1f-%.1f s" % (secs[0], secs[-1])
        at = " at %s" % rp.where_text(w.at) if w.at else ""
        ge = "≥ " if before else ""
        if len(group) == 1:
            first = "stuck task: %s has waited %s%s%s and nothing will wake it" % (
                rp.task_text(w.info), ge, span, at)
            lines = ["waiting on %s" % w.what, w.why, rp.created_text(w.info)]
        else:
            first = "stuck task: %s and %s more like it have waited %s%s%s and nothing will " \
                "wake them" % (rp.task_text(w.info), alike.count_text(len(group) - 1), ge, span,
                               at)
            shared = alike.objects_text(group)
            created = rp.created_text(w.info)
            lines = ["waiting on %s%s" % (w.what, ", " + shared if shared else ""), w.why,
                     created and created.replace("task created", "all created", 1),
                     "the others: " + alike.others_text(group)]
        fields = wait_text.as_json(w)
        fields.update({"waitedSeconds": round(waited[id(w.task)], 1),
                       "thread": rp.thread_name(rec.ident), "count": len(group)})
        if before:
            fields["waitedAtLeast"] = True
        if len(group) > 1:
            fields["objects"] = alike.objects(group)
            fields["alike"] = [dict(name=o.info["name"], threadId=o.info["threadId"],
                                    waitedSeconds=round(waited[id(o.task)], 1))
                               for o in group[1:]]
        self.reporter.emit("stuckTask", rp.block(first, lines), fields)


CHECKED = "checked"     # a wait's stuck mark: looked at, something can still end it


def _key(task):
    return weakref.ref(task)
