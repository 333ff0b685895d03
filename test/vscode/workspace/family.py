"""Starts a Python child, which VS Code debugs in a session of its own."""
import os
import subprocess
import sys

child = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.py")
status = subprocess.call([sys.executable, child, "7"])
print("child exited with", status, flush=True)
