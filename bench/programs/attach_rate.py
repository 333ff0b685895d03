"""CPU-bound Python that prints its call rate per CPU second of its own thread, once per
20 000-call batch that took at least 0.25 s of that thread's CPU time: the attach benchmark
compares the rate before an attach with the rate after the detach (idle overhead left
behind). Counted in the thread's CPU time, not wall time, so that time the program spends
waiting for a core on a shared machine does not read as overhead."""
import time


def step(n):
    return (n * 7 + 3) % 1000


print("ready", flush=True)
count, n = 0, 0
mark = time.thread_time()
while True:
    n = step(n)
    count += 1
    if count % 20000 == 0:
        now = time.thread_time()
        if now - mark >= 0.25:
            print("rate %d" % (count / (now - mark)), flush=True)
            count, mark = 0, now
