"""Run the program exactly as `python -u PROGRAM ARGS` / `python -u -m MODULE ARGS` would.

Same sys.argv, sys.path[0], a fresh `__main__`, unbuffered stdout/stderr (so nothing is lost on
os._exit or a crash), the same exit codes and the same traceback text: an uncaught exception
leaves through the interpreter's own top-level handling, with the agent's frames cut from its
traceback by a one-shot wrapper around whatever sys.excepthook is at that moment.
"""
import builtins
import importlib.machinery
import io
import os
import runpy
import sys
import types

from . import frames as framemod


def unbuffer_stdio():
    """Give the program `python -u` streams: FileIO under a write-through text layer."""
    for name in ("stdout", "stderr"):
        old = getattr(sys, name)
        if old is None:
            continue
        try:
            fd = old.fileno()
            old.flush()
        except (OSError, ValueError, AttributeError):
            continue
        raw = io.FileIO(fd, "w", closefd=False)
        new = io.TextIOWrapper(raw, encoding=old.encoding, errors=old.errors, newline="\n",
                               line_buffering=False, write_through=True)
        setattr(sys, name, new)
        setattr(sys, "__%s__" % name, new)


def _fresh_main(original):
    main = types.ModuleType("__main__")
    if "__annotations__" in vars(original):
        main.__annotations__ = {}
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    return main


def prepare_script(program, args):
    """Set argv, path and __main__ for a script; returns the code to run, or (None, path) for a
    directory or zip file with a `__main__.py`, which runs as python runs it (`run`).
    As python does, `__file__` and the code's file name are absolute; argv[0] is as given."""
    original = sys.modules["__main__"]
    sys.argv[:] = [program] + list(args)
    path = os.path.abspath(program)
    if os.path.isdir(path) or _is_zip(path):
        sys.path[0] = path
        return None, path
    sys.path[0] = os.path.dirname(os.path.realpath(program))
    try:
        with io.open_code(path) as f:
            source = f.read()
    except OSError as e:
        sys.stderr.write("%s: can't open file %r: [Errno %d] %s\n"
                         % (sys.executable, path, e.errno, e.strerror))
        raise SystemExit(2)
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as e:
        import traceback    # only now: it costs about 1 MB in every program
        traceback.print_exception(e.with_traceback(None))
        raise SystemExit(1)
    main = _fresh_main(original)
    main.__file__ = path
    if sys.version_info < (3, 15):   # 3.15 no longer sets __cached__ on modules
        main.__cached__ = None
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    main.__spec__ = None
    main.__package__ = None
    return code, main


def _is_zip(path):
    """A zip file (a zipapp, `app.pyz`, maybe behind a `#!` line), which python runs by its
    `__main__.py`: its end record is in its last 64 KiB. Only then is zipimport asked, which
    python loaded at start-up (zipfile would import pathlib and more into the program)."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - 65557))     # the record (22 bytes) and its longest comment
            if b"PK\x05\x06" not in f.read():
                return False
    except OSError:
        return False
    import zipimport
    try:
        zipimport.zipimporter(path)
    except (zipimport.ZipImportError, OSError):
        return False
    return True


def prepare_module(module, args):
    sys.argv[:] = ["-m"] + list(args)
    sys.path[0] = os.getcwd()
    _fresh_main(sys.modules["__main__"])
    return module


def exit_code_of(exc):
    """The process exit code Python will use for this exception ending the main module."""
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None:
            return 0
        return code if isinstance(code, int) else 1
    if isinstance(exc, KeyboardInterrupt):
        return -2
    return 1


def run(target, is_module, on_uncaught):
    """Run the program; returns normally or re-raises what ends it, traceback trimmed."""
    try:
        if is_module:
            runpy._run_module_as_main(target, alter_argv=True)
        elif target[0] is None:     # a directory or zip file: its __main__ module, as python
            runpy._run_module_as_main("__main__", alter_argv=False)
        else:
            code, main = target
            exec(code, main.__dict__)
    except SystemExit:
        raise
    except BaseException as exc:
        exc.__traceback__ = _trimmed(exc.__traceback__)
        on_uncaught(exc)
        _trim_next_excepthook()
        raise


def _trimmed(tb):
    while tb is not None and framemod.paths.is_agent(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb


def _trim_next_excepthook():
    hook = sys.excepthook

    def once(etype, value, tb):
        sys.excepthook = hook
        if value is not None:
            value.__traceback__ = _trimmed(value.__traceback__)
        hook(etype, value, value.__traceback__ if value is not None else _trimmed(tb))
    sys.excepthook = once
