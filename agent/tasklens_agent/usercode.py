"""User code run on the debugger's behalf has a deadline: evaluate, setVariable and completions
for a request, conditions and logpoints for a breakpoint.

Who runs where:
- the user code runs on the thread that asked for it: a parked thread serving a request, or a
  program thread meeting a breakpoint. It registers itself in `_current` for the length of
  the call;
- one watchdog (an AgentThread, started on first use) wakes at the earliest deadline, and at
  least every 0.25 s to see new runs. It raises `Interrupted` in the late thread
  (`PyThreadState_SetAsyncExc`: taken at the thread's next bytecode) and gives it up to 0.1 s
  to unwind; a thread still inside native code then gets the exception withdrawn and is left
  to finish (`Run.left`): the request is answered now and the result goes to the console when
  it comes. The deadline is set that much before the limit, so the answer leaves within it;
- the control thread routes requests (`hand_over`): a parked thread busy with user code gets
  no more work; what does not need it (stacks, scopes, variables) is served by a helper thread.

`Interrupted` is raised only while its run is registered, and a run that ends withdraws one
not yet delivered (`Run.finish`), so it never reaches the program's own code.
"""
import threading
import time

from . import forksafe
from .errors import AgentError, BAD_ARGUMENTS, INTERNAL, TIMEOUT, internal_error
from .saferepr import set_async_exc
from .threads import AgentThread

LIMIT = 2.0                 # seconds; configure's `evaluateTimeout`
USER_CODE = frozenset({"evaluate", "setVariable", "completions"})

_current = {}               # thread ident -> the Run it is in
_lock = forksafe.lock()    # routing: a parked thread's queue and its run change together
_watchdog = None


class Interrupted(BaseException):
    """Raised in a thread whose user code ran past its deadline."""


def _grace(limit):
    return min(0.1, limit / 4)


class Run:
    """One call of user code on the calling thread."""

    def __init__(self, what, limit):
        self.what = what
        self.ident = threading.get_ident()
        self.limit = limit
        self.started = time.monotonic()
        # Interrupted early enough that the answer leaves within the limit (with room for the
        # watchdog to be scheduled on a busy machine).
        self.deadline = self.started + limit - 1.5 * _grace(limit)
        self.lock = threading.Lock()
        self.done = self.expired = self.fired = self.left = False
        self.on_left = None     # called on the watchdog thread when the run is left running
        self.late = None        # the (kind, value) a left run finally came to

    def expire(self):
        """Watchdog: interrupt; leave the run to finish if it does not stop within GRACE."""
        with self.lock:
            if self.done or self.expired:
                return
            self.expired = self.fired = True
            set_async_exc(self.ident, Interrupted)
        end = time.monotonic() + _grace(self.limit)
        while not self.done and time.monotonic() < end:
            time.sleep(0.005)
        with self.lock:
            if self.done:
                return
            self.fired = False
            set_async_exc(self.ident, None)
            self.left = True
        if self.on_left is not None:
            self.on_left(self)

    def finish(self):
        while True:
            try:
                with self.lock:
                    self.done = True
                    if self.fired:
                        self.fired = False
                        set_async_exc(self.ident, None)
                return
            except Interrupted:     # delivered just before it could be withdrawn
                continue

    def elapsed(self):
        return time.monotonic() - self.started


class _Watchdog:
    def __init__(self):
        AgentThread(self._loop, "tasklens-deadline").start()

    def _loop(self):
        while True:
            runs = [r for r in list(_current.values()) if not (r.done or r.expired)]
            now = time.monotonic()
            for run in runs:
                if run.deadline <= now:
                    run.expire()
            pending = [r.deadline for r in runs if r.deadline > now]
            # New runs are registered without waking us (the hot path of a condition must not
            # pay for it): wake often enough to see one before its deadline.
            nap = min(pending + [now + min(0.25, LIMIT / 4)]) - now
            time.sleep(max(nap, 0.005))


def call(fn, what, limit=None, on_left=None):
    """Run fn() on this thread under the deadline. Returns (kind, value, run): kind is 'ok',
    'raised' (value: the exception), 'interrupted' (stopped at its deadline) or 'late' (left
    running past it; already answered, value and exception as for ok/raised in `run.late`)."""
    global _watchdog
    ident = threading.get_ident()
    if ident in _current:       # user code inside user code: the outer deadline covers both
        try:
            return "ok", fn(), None
        except Interrupted:
            raise
        except BaseException as e:
            return "raised", e, None
    run = Run(what, LIMIT if limit is None else limit)
    run.on_left = on_left
    outcome = None
    with _lock:
        _current[ident] = run
        if _watchdog is None:
            _watchdog = _Watchdog()
    try:
        try:
            outcome = ("ok", fn())
        except Interrupted:
            outcome = ("interrupted", None)
        except BaseException as e:
            outcome = ("raised", e)
    except Interrupted:         # delivered between the call's end and the lines above
        outcome = outcome or ("interrupted", None)
    finally:
        run.finish()
        with _lock:
            _current.pop(ident, None)
    if run.left:
        run.late = outcome
        return "late", outcome[1], run
    return outcome[0], outcome[1], run


def allow(seconds):
    """The run of this thread may go on `seconds` more: an `await` in the console has a
    limit of its own (await_eval.LIMIT), longer than evaluateTimeout."""
    run = _current.get(threading.get_ident())
    if run is not None:
        end = time.monotonic() + seconds
        if end > run.deadline:
            run.limit += end - run.deadline
            run.deadline = end


class exempt:
    """Within it, the run of this thread is not interrupted: it waits while the program's own
    code runs (a paused event loop turned for an `await`, whose console code keeps a deadline of
    its own), where an exception raised from outside would land in one of its tasks.
    Afterwards the run has at least 0.5 s left."""

    def __enter__(self):
        self.run = _current.get(threading.get_ident())
        if self.run is not None:
            self.saved = self.run.deadline
            self.run.deadline = float("inf")
        return self

    def __exit__(self, *exc):
        if self.run is not None:
            self.run.deadline = max(self.saved, time.monotonic() + 0.5)


def time_left():
    """Seconds until the deadline of the run this thread is in (None outside one)."""
    run = _current.get(threading.get_ident())
    return None if run is None else run.deadline - time.monotonic()


def still_running(run):
    return "still running after %s s; interrupted" % seconds(run.limit)


def seconds(s):
    return ("%.1f" % s).rstrip("0").rstrip(".")


# --- requests ---

class _Job:
    """One S-request, answered exactly once wherever it runs."""

    def __init__(self, conn, core, req, cmd, args, handler):
        self.conn, self.core, self.req = conn, core, req
        self.cmd, self.args, self.handler = cmd, args, handler
        self.user_code = cmd in USER_CODE

    def __call__(self):
        if self.user_code:
            self._user_code()
            return
        try:
            body = self.handler(self.args)
        except AgentError as e:
            self.conn.respond(self.req, error=e)
        except Exception as e:
            self.conn.respond(self.req, error=internal_error(e))
        else:
            self.conn.respond(self.req, body)

    def _user_code(self):
        what = self.args.get("expression") or self.args.get("value") or self.args.get("text")
        what = what if isinstance(what, str) else self.cmd

        def left(run):
            self.conn.respond(self.req, error=AgentError(TIMEOUT, (
                "still running after %s s in native code (it cannot be interrupted there); "
                "the result will be printed to the console when it finishes") % seconds(
                    run.limit)))
            _set_aside_queued(run.ident, self.core)

        kind, value, run = call(lambda: self.handler(self.args), what, on_left=left)
        if kind == "late":
            self._late(run, *run.late)
        elif kind == "ok":
            self.conn.respond(self.req, value)
        elif kind == "interrupted":
            self.conn.respond(self.req, error=AgentError(TIMEOUT, still_running(run)))
        elif isinstance(value, AgentError):
            self.conn.respond(self.req, error=value)
        else:
            self.conn.respond(self.req, error=AgentError(INTERNAL, "%s: %s" % (
                type(value).__name__, value)))

    def _late(self, run, kind, value):
        head = "%s (%s) finished after %s s" % (short(run.what), self.cmd, seconds(
            round(run.elapsed(), 1)))
        if kind == "interrupted":
            text = "%s: interrupted.\n" % head
        elif kind == "ok":
            result = value.get("result", value.get("value")) if isinstance(value, dict) else None
            text = "%s: %s\n" % (head, result if result is not None else "done")
        else:
            text = "%s: %s\n" % (head, getattr(value, "message", None) or "%s: %s" % (
                type(value).__name__, value))
        self.core.output(text, "console")

    def refuse(self, run):
        self.conn.respond(self.req, error=AgentError(BAD_ARGUMENTS, busy_message(run)))


def busy_message(run):
    return ("this thread is still running %s (for %s s); it takes new requests when that "
            "finishes" % (short(run.what), seconds(round(run.elapsed()))))


def short(text):
    text = " ".join(str(text).split())
    return "`%s`" % (text if len(text) <= 60 else text[:57] + "...")


def busy_run(ident):
    """The run a thread was left in (past its deadline, in native code), or None."""
    run = _current.get(ident)
    return run if run is not None and run.left else None


def hand_over(conn, core, owner, req, cmd, args, handler):
    """Route an S-request: the parked owner runs it unless it is busy with user code; user
    code never runs on the control thread; other work of a busy owner goes to a helper."""
    job = _Job(conn, core, req, cmd, args, handler)
    with _lock:
        run = _current.get(owner.ident) if owner is not None else None
        if owner is not None and owner.parked and (run is None or job.user_code and not run.left):
            owner.jobs.put(job)     # user code waits its turn behind user code still in time
            return
    if job.user_code and run is not None:
        job.refuse(run)
    elif job.user_code or run is not None:
        AgentThread(job, "tasklens-%s" % cmd).start()
    else:
        job()   # the owner is not parked (native code): read what can be read from here


def _set_aside_queued(ident, core):
    """The thread `ident` was left running: answer what waits in its queue elsewhere."""
    ts = core.states.get(ident)
    if ts is None:
        return
    with _lock:
        waiting = []
        while True:
            try:
                waiting.append(ts.jobs.get_nowait())
            except Exception:   # queue.Empty
                break
        for job in waiting:
            if job is None:
                ts.jobs.put(None)   # a resume: the thread takes it when its run ends
    run = _current.get(ident)
    for job in waiting:
        if job is None:
            continue
        if job.user_code:
            job.refuse(run)
        else:
            AgentThread(job, "tasklens-%s" % job.cmd).start()


def resume_notice(core, step_ts=None):
    """Before a resume: a step of a busy thread is refused; a continue is told who waits."""
    if step_ts is not None:
        run = busy_run(step_ts.ident)
        if run is not None:
            raise AgentError(BAD_ARGUMENTS, "cannot step: " + busy_message(run))
        return
    for run in [r for r in list(_current.values()) if r.left]:
        core.output("A thread still runs %s; it resumes when that finishes.\n"
                    % short(run.what), "console")
