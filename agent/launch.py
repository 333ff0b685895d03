"""Start a Python program under the tasklens agent (see docs/agent-protocol.md).

    python launch.py --connect HOST:PORT -- PROGRAM ARGS...
    python launch.py --connect HOST:PORT --module NAME -- ARGS...
    python launch.py --listen HOST:PORT [--no-wait] -- PROGRAM ARGS...
    python launch.py -- PROGRAM ARGS...

`tasklens run` execs the last two forms (bin/tasklens), so this process is the program's.
`--no-subprocess` (last two forms) leaves the program's Python children alone; otherwise they
get the agent too (docs/children.md).
Environment: TASKLENS_TOKEN (connect mode's token); TASKLENS_WRAPPER_PID, set by a
`tasklens run` that could not exec and stays the parent (the program then dies with it). The
agent removes both before the program runs.

Python put this directory on sys.path[0]; the agent replaces it with the program's own entry
before the program runs, so nothing here is importable by the program.
"""
import sys

if sys.version_info < (3, 11):
    sys.exit("tasklens needs Python 3.11 or newer, not %d.%d" % sys.version_info[:2])

from tasklens_agent import log  # noqa: E402  (needs the version check first)
from tasklens_agent.main import main  # noqa: E402

log.open_from_env()
main(sys.argv[1:])
