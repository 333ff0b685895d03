"""Runs the program named by its first argument with `tasklens top`'s per-task counters on from
the start, as while a `top` is connected (bench/top-bench.ts). Run under agent/launch.py.
`--sample N` first: sampled counting, as `top --sample N` asks it (`auto`: as `top` asks it
by default, exact until that costs too much)."""
import runpy
import sys

from tasklens_agent import tasktime

sample = 1
if sys.argv[1] == "--sample":
    sample = tasktime.AUTO if sys.argv[2] == "auto" else int(sys.argv[2])
    del sys.argv[1:3]
tasktime.acquire("bench", sample)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
