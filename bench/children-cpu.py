"""CPU time of child processes under the debugger (docs/bench-children.md): on a shared machine
the wall-clock ratios of bench/children-bench.ts move with the load, while the CPU a run costs,
what the pool's workers and the debug sessions compete for, does not. Runs each way of
children-bench.ts once per repetition, turn about, each in a fresh `node` (the client included
in every way alike), and reports the median CPU time (user + system) of everything that run
started: the client, adapters, the program and its children.

    TASKLENS_PYTHONS=PY python3 bench/children-cpu.py [REPS] [WAY,WAY,...] [--against MAIN_JS]
"""
import os
import resource
import statistics
import subprocess
import sys

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "dist", "bench", "children-bench.js")


def cpu_ms(way, extra):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(["node", BENCH, "--one", way, "--only", "pool"] + extra,
                         capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if "FIGURES" not in out:
        raise SystemExit("children-cpu: no figures from %s: %s" % (way, out[-300:]))
    return ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000


def main(argv):
    extra = argv[argv.index("--against"):argv.index("--against") + 2] if "--against" in argv \
        else []
    words = [a for a in argv if a not in extra]
    reps = int(words[0]) if words else 5
    ways = words[1].split(",") if len(words) > 1 else ["bare", "run", "debug", "perChild"]
    times = {way: [] for way in ways}
    for i in range(reps):
        for j in range(len(ways)):
            way = ways[(i + j) % len(ways)]
            times[way].append(cpu_ms(way, extra))
    print("load average %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
    for way in ways:
        print("%-9s %6.0f ms CPU (median of %d)" % (way, statistics.median(times[way]), reps))


main(sys.argv[1:])
