"""Runs the program named by its first argument recording a `--trace` from the start, and leaves
without writing the file (bench/top-instructions.ts counts what recording costs the program;
writing happens at exit, outside the program's own time). Run under agent/launch.py."""
import os
import runpy
import sys
import tempfile

from tasklens_agent import trace

trace.start(os.path.join(tempfile.gettempdir(), "tasklens-never-written.json"), trace.DEFAULT_MAX_STEPS)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
sys.stdout.flush()
os._exit.__wrapped__(0)     # the real one: the trace's wrapper would write the file first
