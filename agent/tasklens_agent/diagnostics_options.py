"""The launcher's diagnostics options: checked before the program starts (exit status 2 with
one line on bad input, as `tasklens run` documents), then handed to diagnostics.start.

Kept apart from diagnostics/ so that parsing never imports the watchdog's modules."""
import os
import sys

BAD_USAGE = 2


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


def configure(core, diagnose, slow_ms=None, stuck_s=None):
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


def start(core_of, opts):
    """Start the diagnostics when asked (--diagnose, or one of its options); `core_of()` gives
    the debugger core, made only then."""
    from . import task_origins
    if not (opts.get("diagnose") or opts.get("slow_ms") or opts.get("stuck_s")
            or opts.get("diagnose_json")):
        if "tasklens_agent.diagnostics" in sys.modules:     # started by `configure`
            task_origins.enabled = True
        return None
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
    """--trace FILE: record the asyncio timeline (trace.py), written at exit."""
    path = opts.get("trace")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as e:
        _fail("cannot write the trace file %s: %s" % (path, e.strerror or e))
    from . import trace
    trace.start(os.path.abspath(path), opts.get("trace_max_steps") or trace.DEFAULT_MAX_STEPS)
