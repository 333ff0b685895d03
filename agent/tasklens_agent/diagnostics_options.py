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
    """A checked value of --slow-ms / --stuck-s (a positive number) or --diagnose-json."""
    if flag == "--diagnose-json":
        return text
    try:
        number = float(text)
    except ValueError:
        number = -1.0
    if not number > 0 or number != number or number == float("inf"):
        _fail("%s needs a positive number, not %r" % (flag, text))
    return number


def start(core, opts):
    """Start the diagnostics when asked (--diagnose, or one of its options)."""
    if not (opts.get("diagnose") or opts.get("slow_ms") or opts.get("stuck_s")
            or opts.get("diagnose_json")):
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
    in_session = bool(opts.get("connect"))
    reporter = diagnostics.start(core, slow, stuck, path, stderr=not in_session)
    if in_session:      # a debug session shows reports as important output events
        reporter.listeners.append(lambda record, text: core.output(text + "\n", "important"))
    return reporter
