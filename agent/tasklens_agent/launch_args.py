"""The launcher's command line (agent/launch.py, as `tasklens run` and the adapter start it):
what it asks for, and the one-line errors of a bad start. Parsed by hand, not with argparse:
the agent loads into every program under `tasklens run`, and importing argparse costs a start
about 18 ms (3.12, `-X importtime`) for a line only our own code writes.
"""
import sys

from . import diagnostics_options

USAGE = ("usage: launch.py [--connect HOST:PORT | --listen HOST:PORT [--no-wait]] [--no-subprocess] "
         "[--diagnose [--slow-ms N] [--stuck-s N] [--diagnose-json FILE]] "
         "[--trace FILE [--trace-max-steps N]] "
         "(--module NAME | PROGRAM) [--] [ARGS...]")


def parse(argv):
    opts = {"connect": None, "listen": None, "wait": True, "module": None, "diagnose": False,
            "subprocess": True,
            "slow_ms": None, "stuck_s": None, "diagnose_json": None, "trace": None,
            "trace_max_steps": None}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--connect", "--listen", "--module"):
            if i + 1 >= len(argv):
                raise SystemExit(USAGE)
            opts[a[2:]] = argv[i + 1]
            i += 2
        elif a in diagnostics_options.VALUE_FLAGS:
            if i + 1 >= len(argv):
                raise SystemExit(USAGE)
            opts[diagnostics_options.VALUE_FLAGS[a]] = diagnostics_options.value(a, argv[i + 1])
            i += 2
        elif a == "--diagnose":
            opts["diagnose"] = True
            i += 1
        elif a == "--no-wait":
            opts["wait"] = False
            i += 1
        elif a == "--no-subprocess":
            opts["subprocess"] = False
            i += 1
        elif a == "--":
            i += 1
            break
        else:
            break
    rest = argv[i:]
    if opts["module"] is None:
        if not rest:
            raise SystemExit(USAGE)
        opts["program"], opts["args"] = rest[0], rest[1:]
    else:
        opts["program"], opts["args"] = None, rest
    return opts


def address(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def shown(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def fail(message):
    """A start-up error in one line, with the exit status `tasklens run` documents for it."""
    sys.stderr.write("tasklens: %s\n" % message)
    sys.stderr.flush()
    raise SystemExit(2)
