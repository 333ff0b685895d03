"""Which files are the user's, the library's, or the agent's own; canonical paths for matching.

Called on hot paths (first sight of each code object), so every answer is cached per filename.
"""
import os
import runpy
import sys

AGENT_DIR = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(os.path.dirname(AGENT_DIR), "launch.py")
_RUNPY = os.path.normcase(os.path.realpath(runpy.__file__))


def _library_roots():
    roots = set()
    # The standard library's own folder, found without sysconfig (whose data costs 1-2 MB of
    # memory in every program); installed packages are told by their site-/dist-packages folder.
    roots.add(os.path.normcase(os.path.realpath(os.path.dirname(os.__file__))) + os.sep)
    for base in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        lib = os.path.join(base, "lib", "python%d.%d" % sys.version_info[:2])
        roots.add(os.path.normcase(os.path.realpath(lib)) + os.sep)
    return tuple(sorted(roots))


_ROOTS = _library_roots()
_canon = {}
_kind = {}
_display = {}


def canonical(filename):
    """A path key for matching breakpoints against code objects (resolved once per name)."""
    try:
        return _canon[filename]
    except KeyError:
        pass
    if filename.startswith("<") and filename.endswith(">"):
        result = filename
    else:
        result = os.path.normcase(os.path.realpath(filename))
    _canon[filename] = result
    return result


def display(filename):
    """The path shown for a code object's file (resolved once per name, as `canonical`: a
    report names the lines of thousands of tasks)."""
    try:
        return _display[filename]
    except KeyError:
        pass
    result = filename if filename.startswith("<") else os.path.abspath(filename)
    _display[filename] = result
    return result


def _classify(filename):
    if filename == "<frozen runpy>":    # how runpy's frames are named since 3.11
        return "agent"
    if filename.startswith("<"):
        return "library"
    path = canonical(filename)
    if path.startswith(os.path.normcase(os.path.realpath(AGENT_DIR)) + os.sep) \
            or path == os.path.normcase(os.path.realpath(LAUNCHER)) or path == _RUNPY:
        return "agent"
    parts = path.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return "library"
    if path.startswith(_ROOTS):
        return "library"
    return "user"


def kind(filename):
    """'user', 'library' or 'agent' (the agent and runpy: never shown, never stopped in)."""
    try:
        return _kind[filename]
    except KeyError:
        result = _kind[filename] = _classify(filename)
        return result


def is_agent(filename):
    return kind(filename) == "agent"


def is_user(filename):
    return kind(filename) == "user"
