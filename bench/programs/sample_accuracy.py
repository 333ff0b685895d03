"""How close `top --sample N`'s estimates come (docs/bench-top.md): tasks whose true steps and
busy time are known (each step spins a fixed time, or none), counted with one wake in about N
sampled; prints, per size of task, the median and worst relative error of polls and busy over
the tasks of that size. Run under agent/launch.py:

    python agent/launch.py -- bench/programs/sample_accuracy.py N [SIZES...]

N = 1 (every step timed) gives the reference: its busy "error" is what a step costs beyond
its spin (the await, the loop's own work), the same in every row.
"""
import asyncio
import statistics
import sys
import time

from tasklens_agent import tasktime

SPIN_S = 5e-05
TASKS_PER_SIZE = 10


async def worker(steps, spin):
    for _ in range(steps):
        if spin:
            end = time.perf_counter() + spin
            while time.perf_counter() < end:
                pass
        await asyncio.sleep(0)


def error(estimate, truth):
    return abs(estimate - truth) / truth


async def main(sample, sizes):
    tasktime.acquire("accuracy", sample)
    lt = tasktime.watch(asyncio.get_running_loop())
    spun = {}
    tasks = []
    for steps in sizes:
        for i in range(TASKS_PER_SIZE):
            spin = SPIN_S if i % 2 == 0 else 0.0
            t = asyncio.create_task(worker(steps, spin))
            spun[t] = (steps + 1, steps * spin)    # its first step, then one per hop
            tasks.append(t)
    await asyncio.gather(*tasks)
    print("sampled 1 in %d; %d tasks per size, half of them spinning %.0f us a step"
          % (sample, TASKS_PER_SIZE, SPIN_S * 1e6))
    print("| steps of a task | polls: median error | worst | busy: median error | worst |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    records = {st.key: st for st in list(lt.stats.values()) + list(lt.finished)}
    for steps in sizes:
        polls, busy = [], []
        for t, (true_polls, true_busy) in spun.items():
            if true_polls != steps + 1:
                continue
            st = records.get(id(t))
            est_polls = st.polls if st is not None else 0
            polls.append(error(est_polls, true_polls))
            if true_busy:
                busy.append(error(st.busy if st is not None else 0.0, true_busy))
        print("| %d | %.0f %% | %.0f %% | %.0f %% | %.0f %% |" % (
            steps, 100 * statistics.median(polls), 100 * max(polls),
            100 * statistics.median(busy), 100 * max(busy)))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), [int(a) for a in sys.argv[2:]] or [30, 300, 3000]))
