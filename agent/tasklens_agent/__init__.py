"""tasklens agent: runs inside the debugged Python program (stdlib only, CPython 3.11-3.15)."""
