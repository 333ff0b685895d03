"""Loads the tasklens agent into a Python child of a program tasklens follows.

The parent's agent puts this folder first on PYTHONPATH and names what to do in
TASKLENS_SUBPROCESS (agent/tasklens_agent/children.py); Python imports this module while it
starts, before the child's own code. The module then steps aside: this folder and the agent's
leave sys.path, and a sitecustomize module further down the path (a distribution's own) runs
as it would have without us. Any other interpreter (too old, or one that is not CPython) only
gets that last part.
"""
import os
import sys


def _load_agent():
    here = os.path.dirname(os.path.abspath(__file__))
    agent_dir = os.path.dirname(here)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = os.environ.get("TASKLENS_SUBPROCESS")
    if spec and sys.version_info >= (3, 11) and sys.implementation.name == "cpython":
        sys.path.insert(0, agent_dir)
        try:
            from tasklens_agent import children
        finally:
            sys.path.remove(agent_dir)
        children.bootstrap(spec)
    _run_next_sitecustomize()


def _run_next_sitecustomize():
    import importlib.machinery
    import importlib.util
    found = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
    if found is None or found.loader is None:
        return
    module = importlib.util.module_from_spec(found)
    sys.modules["sitecustomize"] = module
    found.loader.exec_module(module)


_load_agent()
