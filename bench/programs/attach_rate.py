"""CPU-bound Python that prints how many calls it made in each 0.25 s: the attach benchmark
compares the rate before an attach and after the detach (idle overhead left behind)."""
import time


def step(n):
    return (n * 7 + 3) % 1000


print("ready", flush=True)
count, n = 0, 0
mark = time.perf_counter()
while True:
    n = step(n)
    count += 1
    if count % 20000 == 0:
        now = time.perf_counter()
        if now - mark >= 0.25:
            print("rate %d" % (count / (now - mark)), flush=True)
            count, mark = 0, now
