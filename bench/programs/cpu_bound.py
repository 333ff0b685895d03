"""CPU-bound workload for the overhead benchmark.

Prints the time spent in `work()` so that the harness can compare the program's own
running time with and without a debugger, apart from start-up costs.
"""
import sys
import time


def never_called():
    return "unreachable"  # NEVER_LINE


def work(n):
    total = 0
    for i in range(n):
        total += i % 7  # HOT_LINE
    return total


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    cpu = time.process_time()
    started = time.perf_counter()
    result = work(n)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    print(f"result={result} elapsed={elapsed:.6f} cpu={cpu:.6f}", flush=True)


if __name__ == "__main__":
    main()
