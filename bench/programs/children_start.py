# Starts N Python children one after another; prints the median time from starting a child to
# its first line running, and to its exit.
import os
import statistics
import subprocess
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
child = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "child_noop.py")]
first, whole = [], []
for _ in range(n):
    started = time.time()
    p = subprocess.Popen(child, stdout=subprocess.PIPE)
    first.append(float(p.stdout.readline()) - started)
    p.stdout.read()
    p.wait()
    whole.append(time.time() - started)
print("CHILD_MS %.1f %.1f" % (statistics.median(first) * 1000, statistics.median(whole) * 1000),
      flush=True)
