"""The launcher's diagnostics options: checked before the program starts (exit status 2 with
one line on bad input, as `tasklens run` documents), then handed to diagnostics.start; a
session's `configure`; and what a child process does with them (children.py).

Kept apart from diagnostics/ so that parsing never imports the watchdog's modules.
Who runs where: `value` and `start` on the main thread before the program; `configure` on the
session's control thread; a child's deferred start on the thread whose event loop runs first;
the fork functions on the forking thread, in the child, right after the fork."""
import os
import sys
import threading

BAD_USAGE = 2
# The launcher's flags that take a value checked by `value`, and the option each sets; the
# first three are the diagnostics' own. `tasklens run` passes both kinds on to its children.
VALUE_FLAGS = {"--slow-ms": "slow_ms", "--stuck-s": "stuck_s", "--diagnose-json": "diagnose_json",
               "--trace": "trace", "--trace-max-steps": "trace_max_steps"}
_DIAGNOSE_FLAGS = ("--slow-ms", "--stuck-s", "--diagnose-json")
_TRACE_FLAGS = ("--trace", "--trace-max-steps")


def _fail(message):
    sys.stderr.write("tasklens: %s\n" % message)
    raise SystemExit(BAD_USAGE)


def value(flag, text):
    """A checked value of --slow-ms / --stuck-s (a positive number), --trace-max-steps (a
    positive whole number), --diagnose-json or --trace (a file)."""
    if flag in ("--diagnose-json", "--trace"):
        return text
    if flag == "--trace-max-steps":
        if not text.isdigit() or int(text) <= 0:
            _fail("%s needs a positive whole number, not %r" % (flag, text))
        return int(text)
    try:
        number = float(text)
    except ValueError:
        number = -1.0
    if not number > 0 or number != number or number == float("inf"):
        _fail("%s needs a positive number, not %r" % (flag, text))
    return number


_deferral = None    # (lock, pending arguments) once `defer_to_first_loop` was called


def defer_to_first_loop():
    """In a child process (children.py), diagnostics asked for by its session or by its
    start-up rule (`tasklens run --diagnose`) watch event loops, so they start with the first
    loop that runs there (or at once if one runs already, as in a fork made by a task). A child
    that runs none, as a pool worker, gets no watchdog thread, heap walk or imports for them."""
    global _deferral
    if _deferral is not None:
        return
    from . import task_origins
    _deferral = (threading.Lock(), [])
    task_origins.loop_watchers.append(_first_loop)


def _first_loop(loop, frame):
    lock, pending = _deferral
    with lock:
        call = pending.pop() if pending else None
    if call is not None:
        call[0](*call[1:])


def _deferred(call):
    """Whether `call` (a function and its arguments) waits for the first loop (then it
    replaces any call waiting before it)."""
    if _deferral is None:
        return False
    from . import tasks as taskmod
    lock, pending = _deferral
    with lock:
        pending.clear()
        if not taskmod._running and not running():
            pending.append(call)
            return True
    return False


def running():
    diagnostics = sys.modules.get("tasklens_agent.diagnostics")
    return diagnostics is not None and diagnostics.reporter() is not None


def forget_forked():
    """In a forked child: the parent's diagnostics came along without their watchdog thread,
    still reporting to the parent's session. They are taken out (and loops still watched, as
    the first loop is what starts the child's own)."""
    if running():
        from . import task_origins
        watching = task_origins.enabled
        sys.modules["tasklens_agent.diagnostics"].stop()
        task_origins.enabled = watching


def rediagnose_forked(core_of, opts):
    """`tasklens run --diagnose`: a forked child diagnoses itself as its parent does (reports on
    the stderr they share, to the same JSON file), with a watchdog of its own."""
    if running():
        forget_forked()
        start(core_of, opts)


def configure(core, diagnose, slow_ms=None, stuck_s=None):
    """A debug session's `configure` (deferred in a child, `defer_to_first_loop`)."""
    if not (diagnose and _deferred((_configure, core, diagnose, slow_ms, stuck_s))):
        _configure(core, diagnose, slow_ms, stuck_s)


def _configure(core, diagnose, slow_ms=None, stuck_s=None):
    """A debug session's `configure`: `diagnose` true starts the diagnostics (if the command
    line did not) with the session's thresholds (`slowMs`, `stuckS`; the command line's win
    when it started them) and shows each report as an output event; false shows none (stderr
    and the JSON file of `--diagnose` go on). Filters work whenever the diagnostics run."""
    if diagnose is None or (not diagnose and "tasklens_agent.diagnostics" not in sys.modules):
        return      # off, and nothing running to quieten: the watchdog's modules stay unloaded
    from . import diagnostics
    if diagnose and diagnostics.reporter() is None:
        slow = slow_ms / 1000.0 if slow_ms else diagnostics.DEFAULT_SLOW
        # No connection yet: attached by process id, the program runs before `start`.
        diagnostics.start(core, slow, stuck_s or diagnostics.DEFAULT_STUCK, stderr=False,
                          hold=core.conn is None)
        diagnostics.watch_running_loops()
    bridge = diagnostics.bridge(core)
    if bridge is not None:
        bridge.output = bool(diagnose)


def _asked(opts):
    return bool(opts.get("diagnose") or opts.get("slow_ms") or opts.get("stuck_s")
                or opts.get("diagnose_json"))


def child_words(opts):
    """The diagnostics and trace options a `tasklens run` passes on to the children it starts,
    as launcher words (children.py puts them in their start-up rule); none when not asked.
    Files are passed as absolute paths: a child may run in another directory."""
    return (["--diagnose"] + _words(opts, _DIAGNOSE_FLAGS) if _asked(opts) else []) \
        + trace_words(opts)


def trace_words(opts):
    """--trace and --trace-max-steps as launcher words, for children (also a debug session's)."""
    return _words(opts, _TRACE_FLAGS)


def _words(opts, flags):
    words = []
    for flag in flags:
        key = VALUE_FLAGS[flag]
        if opts.get(key):
            value = opts[key]
            words += [flag, os.path.abspath(value) if key in ("diagnose_json", "trace")
                      else repr(value)]
    return words


def options_of(words):
    """The options `child_words` wrote, back (in a child, from its start-up rule)."""
    opts = {"diagnose": "--diagnose" in words}
    for flag, text in zip(words, words[1:]):
        if flag in _DIAGNOSE_FLAGS or flag in _TRACE_FLAGS:
            opts[VALUE_FLAGS[flag]] = value(flag, text)
    return opts


def start(core_of, opts):
    """Start the diagnostics when asked (--diagnose, or one of its options); `core_of()` gives
    the debugger core, made only then. In a child (`defer_to_first_loop`), with its first
    event loop."""
    from . import task_origins
    if not _asked(opts):
        if "tasklens_agent.diagnostics" in sys.modules:     # started by `configure`
            task_origins.enabled = True
        return None
    if _deferred((_start, core_of, opts)):
        task_origins.enabled = True     # the first loop must be seen: it starts them
        return None
    return _start(core_of, opts)


def _start(core_of, opts):
    from . import diagnostics
    path = opts.get("diagnose_json")
    if path:
        try:
            with open(path, "a", encoding="utf-8"):
                pass
        except OSError as e:
            _fail("cannot write the diagnostics file %s: %s" % (path, e.strerror or e))
        path = os.path.abspath(path)
    slow = opts["slow_ms"] / 1000.0 if opts.get("slow_ms") else diagnostics.DEFAULT_SLOW
    stuck = opts.get("stuck_s") or diagnostics.DEFAULT_STUCK
    return diagnostics.start(core_of(), slow, stuck, path, stderr=not opts.get("connect"))


def start_trace(opts):
    """--trace FILE: record the asyncio timeline (trace.py), written at exit. A child started
    anew under `tasklens run --trace FILE` records into FILE.PID.json, written only if it ran
    an event loop (a helper process running none leaves no file)."""
    path = opts.get("trace")
    if not path:
        return
    child = bool(opts.get("child"))
    if not child:
        try:
            with open(path, "a", encoding="utf-8"):
                pass
        except OSError as e:
            _fail("cannot write the trace file %s: %s" % (path, e.strerror or e))
    from . import trace
    trace.start(os.path.abspath(path), opts.get("trace_max_steps") or trace.DEFAULT_MAX_STEPS,
                child=child)
