"""Runs the program named by its first argument with `tasklens top`'s per-task counters on from
the start, as while a `top` is connected (bench/top-bench.ts). Run under agent/launch.py."""
import runpy
import sys

from tasklens_agent import tasktime

tasktime.acquire("bench")
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
