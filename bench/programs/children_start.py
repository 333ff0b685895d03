# Starts N Python children one after another and prints the median time from start to exit.
import os
import statistics
import subprocess
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
child = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "child_noop.py")]
times = []
for _ in range(n):
    started = time.perf_counter()
    subprocess.run(child, check=True)
    times.append(time.perf_counter() - started)
print("CHILD_MS %.1f" % (statistics.median(times) * 1000), flush=True)
