# A ProcessPoolExecutor of 4 workers running 1,000 small jobs; prints the time from creating
# the pool to its shutdown (worker start included).
import concurrent.futures
import time


def job(n):
    return sum(range(n % 100))


if __name__ == "__main__":
    started = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(4) as pool:
        total = sum(pool.map(job, range(1000)))
    print("POOL_MS %.1f" % ((time.perf_counter() - started) * 1000), total, flush=True)
