"""`tasklens run --trace FILE`: the asyncio timeline in the Chrome trace event format.

tasktime.py times every step; while a trace records, it also hands each step, timer callback,
wake, task seen and task finished to the `Recorder` here, which keeps them in bounded ring
buffers (the oldest go first) as tuples: cheap on the loop thread, turned into JSON only when
the file is written (at exit, on SIGUSR2, or when `tasklens trace PID` asks), on whichever
thread writes. `tasklens trace PID --for S` records a window of a program that records none
(trace_window.py), and writes it at the window's end. Tracks: one per loop thread (every step, named after its task; timer callbacks),
one per task (its life from first seen to finish, its steps, and instants), one per loop for
blocked periods, and a loop-lag counter. A wake is a flow arrow from the step or timer callback
that made the task ready to the step it made ready.
"""
import collections
import json
import os
import struct
import sys
import threading

from . import paths
from . import tasktime

DEFAULT_MAX_STEPS = 1_000_000
BLOCKED_S = 0.1
_TASK_PID_OFFSET = 1 << 22     # the tasks' "process": above any real PID
_recorder = None


class Recorder:
    def __init__(self, path, max_steps, slow=BLOCKED_S, child=False):
        self.base = path     # the file named; a child's is child_path(base, its pid)
        self.path = child_path(path, os.getpid()) if child else path
        self.child = child   # a child writes its file only if it recorded something
        self.slow = slow
        self.max_steps = max_steps
        # a flat array('d') costs five times as much to append to (each number parsed on the
        # way in), a tuple more in collections (STEP below)
        self.steps = collections.deque(maxlen=max_steps)      # STEP records (bytes)
        self.pack_step = STEP.pack
        self.callbacks = collections.deque(maxlen=max_steps)    # (loop, start, end, name)
        # tasktime appends with these, a C call per step and no Python frame
        self.add_step, self.add_callback = self.steps.append, self.callbacks.append
        self.marks = collections.deque(maxlen=max_steps)    # (loop, key, ts, kind)
        self.lags = collections.deque(maxlen=max_steps)     # (loop, ts, seconds)
        self.tasks = {}     # task serial -> [name, coroutine's code, TaskTimes]
        self.threads = {}   # loop key -> (native id, name)
        self.loops = {}     # loop key -> LoopTimes (their step counts tell the steps dropped)
        self.origin = tasktime._clock()
        self.lock = threading.Lock()

    # --- on the loop thread, through tasktime ---
    def task_seen(self, lt, st, task, now):
        key = lt.key
        if key not in self.threads:
            self.loops[key] = lt
            thread = threading._active.get(lt.record.ident)
            if thread is not None:
                self.threads[key] = (thread.native_id, thread.name)
        # the name and site are read when the file is written (a name is often set after creation)
        coro = task.get_coro()
        self.tasks[st.serial] = [None, getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
                                 or type(coro).__name__, st]
        if len(self.tasks) > 2 * self.max_steps:
            self._forget_old_tasks()
        self.marks.append((key, st.serial, now, "created"))

    def _forget_old_tasks(self):
        """Tasks none of whose records are left in the ring buffers (amortised: the buffers
        hold at most as many tasks as records)."""
        kept = {r[2] for r in unpack_steps(list(self.steps))} | {m[1] for m in list(self.marks)}
        with self.lock:
            self.tasks = {k: v for k, v in self.tasks.items() if k in kept}

    def task_done(self, lt, st, now):
        self.marks.append((lt.key, st.serial, now, st.outcome))

    def lag(self, lt, now, late):
        self.lags.append((lt.key, now, late))

    def recorded(self):
        """Whether this process recorded anything (a fork keeps its parent's task names)."""
        return bool(self.steps or self.callbacks or self.marks)

    # --- writing ---
    def write(self, path=None):
        """Write the buffers out; returns (path, events, bytes)."""
        path = path or self.path
        with self.lock:
            steps, callbacks = unpack_steps(list(self.steps)), list(self.callbacks)
            marks, lags, tasks = list(self.marks), list(self.lags), dict(self.tasks)
            threads = dict(self.threads)
        events = _events(self, steps, callbacks, marks, lags, tasks, threads)
        tmp = path + ".part"
        import gzip     # loaded when a file is written, not at start-up
        opener = gzip.open if path.endswith(".gz") else open
        with opener(tmp, "wt", encoding="utf-8") as f:
            f.write('{"displayTimeUnit":"ms","otherData":%s,"traceEvents":[\n' % json.dumps({
                "producer": "tasklens", "steps": len(steps), "droppedSteps": max(
                    0, sum(lt.steps for lt in list(self.loops.values())) - len(steps))}))
            f.write(",\n".join(line for _, line in events))
            f.write("\n]}\n")
        os.replace(tmp, path)
        return path, len(events), os.path.getsize(path)


def _site(code):
    if isinstance(code, str):
        return code
    return "%s %s:%d" % (code.co_qualname, paths.display(code.co_filename), code.co_firstlineno)


def _name_now(entry):
    """The task's name as it is now (asyncio.create_task names a task after making it), or
    when it finished, or when it was first seen."""
    st = entry[2]
    task = st.ref()
    if task is not None:
        try:
            return task.get_name()
        except Exception:
            pass
    return st.name or "Task-%d" % st.serial


# A task step as the ring buffer keeps it: start, end, the task's serial, the start of the step
# or timer callback that woke it (0: none known), when it became ready (-1: not known). A step
# is known by its start time (one loop runs one step at a time, and its clock moves between
# two), its loop by its task's (`tasks`), so the loop thread numbers nothing and packs five
# fields, not seven (1849 M -> 1786 M instructions on 3.15, docs/bench-top.md).
# Packed into bytes rather than kept as a tuple: a tuple (and the floats and ints it holds) is
# a new object the garbage collector counts and walks, and a million of them kept made each
# collection longer (on the throughput benchmark, 3.11: 2135 M instructions with tuples, 2014 M
# packed; bytes are not tracked by the collector).
STEP = struct.Struct("<ddQdd")


def unpack_steps(records):
    """The ring buffer's records as (start, end, serial, waker, ready) tuples (waker 0 and
    ready None where not known)."""
    return [(start, end, key, waker, ready if ready >= 0 else None)
            for start, end, key, waker, ready in STEP.iter_unpack(b"".join(records))]


def _events(rec, steps, callbacks, marks, lags, tasks, threads):
    """(ts, JSON text) of every event, in time order (so each track's times only grow).

    Each step is one slice, on its loop thread's track, named after its task; the task's own
    track holds its life (one slice from first seen to finish, with its coroutine) and its
    instants. Written by hand-made templates (a dict through json.dumps per event costs more
    than the recording did); numbers are microseconds rounded to the nanosecond."""
    pid = os.getpid()
    dumps = json.dumps
    out = []
    append = out.append
    origin = rec.origin
    task_tid, label = {}, {}
    loop_of = {key: entry[2].lt.key for key, entry in tasks.items()}     # a task's loop for life
    steps = [(loop_of.get(key, 0), start, end, key, waker, ready)
             for start, end, key, waker, ready in steps]
    for key, entry in tasks.items():
        task_tid[key] = len(task_tid) + 1
        entry[0] = _name_now(entry)
        label[key] = dumps(entry[0])
    loop_tid = {key: threads.get(key, (0, ""))[0] or (index + 1)
                for index, key in enumerate(set(threads) | {s[0] for s in steps}
                                            | {c[0] for c in callbacks})}
    blocked_tid = {key: 1_000_000_000 + i for i, key in enumerate(loop_tid)}
    tpid = pid + _TASK_PID_OFFSET
    meta = [{"ph": "M", "pid": pid, "name": "process_name", "args": {"name": "python %d" % pid}},
            {"ph": "M", "pid": tpid, "name": "process_name", "args": {"name": "asyncio tasks"}}]
    for key, tid in loop_tid.items():
        name = threads.get(key, (0, "loop"))[1]
        meta.append({"ph": "M", "pid": pid, "tid": tid, "name": "thread_name",
                     "args": {"name": "%s (event loop)" % name}})
        meta.append({"ph": "M", "pid": pid, "tid": blocked_tid[key], "name": "thread_name",
                     "args": {"name": "%s: blocked loop (steps >= %g ms)" % (name, rec.slow * 1e3)}})
    for key, tid in task_tid.items():
        meta.append({"ph": "M", "pid": tpid, "tid": tid, "name": "thread_name",
                     "args": {"name": "task %s" % tasks[key][0]}})
    out.extend((-1.0, dumps(m)) for m in meta)
    # a wake's waker is known by its loop and start time, if still in the buffers
    present = {(s[0], s[1]) for s in steps} | {(c[0], c[1]) for c in callbacks}
    for loop, start, end, name in callbacks:
        ts = round((start - origin) * 1e6, 3)
        append((ts, '{"ph":"X","pid":%d,"tid":%d,"ts":%r,"dur":%r,"name":%s,"cat":"callback"}'
                % (pid, loop_tid[loop], ts, round((end - start) * 1e6, 3), dumps("timer " + name))))
    unknown = dumps("?")
    first, last = {}, {}
    step_text = '{"ph":"X","pid":%d,"tid":%%d,"ts":%%r,"dur":%%r,"name":%%s,"cat":"step"}' % pid
    flow_start = '{"ph":"s","pid":%d,"tid":%%d,"ts":%%r,"id":%%d,"name":"wake","cat":"wake"}' % pid
    flow_end = '{"ph":"f","bp":"e","pid":%d,"tid":%%d,"ts":%%r,"id":%%d,"name":"wake","cat":"wake"}' % pid
    slow = rec.slow
    flow = 0
    for loop, start, end, key, waker, ready in steps:
        ts, dur = round((start - origin) * 1e6, 3), round((end - start) * 1e6, 3)
        tid = loop_tid[loop]
        append((ts, step_text % (tid, ts, dur, label.get(key, unknown))))
        if key in task_tid:
            if key not in first:
                first[key] = start
            last[key] = end
        if end - start >= slow:
            append((ts, dumps({"ph": "X", "pid": pid, "tid": blocked_tid[loop], "ts": ts, "dur": dur,
                               "name": "blocked by %s" % tasks.get(key, ("?",))[0], "cat": "blocked"})))
        if waker and ready is not None and (loop, waker) in present:
            flow += 1
            at = round((ready - origin) * 1e6, 3)
            append((at, flow_start % (tid, at, flow)))
            append((ts, flow_end % (tid, ts, flow)))
    ends = {}
    for loop, key, t, kind in marks:
        if key not in task_tid:
            continue
        if kind == "created":
            first[key] = min(first.get(key, t), t)
        else:
            ends[key] = t
        ts = round((t - origin) * 1e6, 3)
        append((ts, '{"ph":"i","s":"t","pid":%d,"tid":%d,"ts":%r,"name":"%s","cat":"task"}'
                % (tpid, task_tid[key], ts, kind)))
    for key, start in first.items():
        stop = ends.get(key, last.get(key, start))
        ts = round((start - origin) * 1e6 - 0.001, 3)
        append((ts, dumps({
            "ph": "X", "pid": tpid, "tid": task_tid[key], "ts": ts,
            "dur": round((stop - start) * 1e6 + 0.002, 3), "name": tasks[key][0],
            "cat": "task", "args": {"coro": _site(tasks[key][1])}})))
    for loop, t, late in lags:
        if loop in loop_tid:
            ts = round((t - origin) * 1e6, 3)
            append((ts, '{"ph":"C","pid":%d,"tid":%d,"ts":%r,"name":"loop lag (ms)","args":{"lag":%r}}'
                    % (pid, loop_tid[loop], ts, round(late * 1e3, 3))))
    out.sort(key=lambda e: e[0])
    return out


_written = False     # at exit: once, whichever of atexit and os._exit comes first


def start(path, max_steps, child=False):
    """Record from now on (called before the program runs); the file is written at exit, or
    as the process calls os._exit. `child`: a child started anew (children.py)."""
    global _recorder
    import atexit
    from . import task_origins
    _recorder = Recorder(path, max_steps, child=child)
    tasktime.trace_sink = _recorder
    task_origins.enabled = True
    tasktime.acquire(_recorder)
    atexit.register(_at_exit)
    os.register_at_fork(after_in_child=_forked)
    # os._exit (a plain os.fork child, a multiprocessing worker, a program that leaves that way)
    # and SIGTERM (`timeout`, `systemctl stop`, `docker stop`) or SIGHUP end it past atexit
    from . import discovery, os_exit
    os_exit.register(lambda status: _write_now())
    discovery.before_fatal_signal.append(_write_now)
    _install_signal()


def _write_now():
    """The file, as the process ends past atexit (os._exit, a fatal signal); a failure said."""
    try:
        _at_exit()
    except OSError as e:
        sys.stderr.write("tasklens: cannot write the trace: %s\n" % (e.strerror or e))


def _forked():
    """A forked child records its own timeline, from the fork on, into a file of its own (the
    PID before the extension; a fork of a fork too, beside the others): the parent's file stays
    the parent's, whichever ends last. Like a child started anew, it writes one only if it
    recorded something."""
    global _written
    rec = _recorder
    if rec is None:
        return
    _written = False
    rec.child = True
    rec.path = child_path(rec.base, os.getpid())
    rec.lock = threading.Lock()     # a thread writing the file may have held it at the fork
    for buffer in (rec.steps, rec.callbacks, rec.marks, rec.lags):
        buffer.clear()
    rec.threads.clear()     # the parent's thread ids; a loop that runs on is named again
    rec.loops.clear()


def child_path(path, pid):
    """FILE.json -> FILE.PID.json (also .json.gz)."""
    for ext in (".json.gz", ".json", ".gz"):
        if path.endswith(ext):
            return "%s.%d%s" % (path[:-len(ext)], pid, ext)
    return "%s.%d" % (path, pid)


def _at_exit():
    global _written
    rec = _recorder
    if rec is not None and not _written:
        _written = True
        if rec.child and not rec.recorded():
            return      # a child that ran no event loop (a pool worker, the fork server)
        _announce(*rec.write())


def _announce(path, events, size):
    sys.stderr.write("tasklens: trace written to %s: %d events, %s\n" % (path, events, _size(size)))
    sys.stderr.flush()


def _size(n):
    return "%d bytes" % n if n < 10_000 else "%.1f kB" % (n / 1e3) if n < 10_000_000 \
        else "%.1f MB" % (n / 1e6)


def _install_signal():
    import signal
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGUSR2"):
        return

    def on_signal(signum, frame):
        # The handler runs on the main thread between bytecodes: the writing goes elsewhere.
        threading.Thread(target=_write_announced, name="tasklens-trace", daemon=True).start()
    signal.signal(signal.SIGUSR2, on_signal)


def _write_announced():
    try:
        _announce(*_recorder.write())
    except OSError as e:
        sys.stderr.write("tasklens: cannot write the trace: %s\n" % (e.strerror or e))


def dump_now():
    """`tasklens trace PID`: write the file now; the program runs on."""
    from .protocol import AgentError, BAD_ARGUMENTS
    if _recorder is None:
        raise AgentError(BAD_ARGUMENTS, "this program is not recording a trace (record a window "
                         "with `tasklens trace PID --for SECONDS`, or run it with "
                         "`tasklens run --trace FILE.json`)")
    try:
        path, events, size = _recorder.write()
    except OSError as e:
        raise AgentError(BAD_ARGUMENTS, "cannot write the trace %s: %s"
                         % (_recorder.path, e.strerror or e))
    return {"path": path, "events": events, "bytes": size}
