"""Run by the target's own interpreter (3.14+): hand it the attach script, then wake it.

    /proc/PID/exe remote_exec.py PID SCRIPT

`sys.remote_exec` only leaves a request in the target, which runs the script the next time its
main thread executes bytecode, or when a blocking call returns EINTR: a ptrace interrupt makes
`epoll_wait` do so (an idle event loop), then every thread is let go as it was. Prints one JSON
line: {"ok": true} or {"error": code, "message": text}; codes: disabled, permission, gone,
failed.
"""
import ctypes
import json
import os
import sys

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000


def report(**body):
    sys.stdout.write(json.dumps(body) + "\n")


def wake(pid):
    """Interrupt each thread's system call once (an idle loop's epoll_wait returns EINTR)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    libc.ptrace.restype = ctypes.c_long
    try:
        tids = [int(t) for t in os.listdir("/proc/%d/task" % pid)]
    except OSError:
        return
    for tid in tids:
        if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
            continue
        if libc.ptrace(PTRACE_INTERRUPT, tid, None, None) == 0:
            try:
                os.waitpid(tid, WALL)
            except OSError:
                pass
        libc.ptrace(PTRACE_DETACH, tid, None, None)


def main(pid, script):
    try:
        sys.remote_exec(pid, script)
    except PermissionError as e:
        return report(error="permission", message=str(e))
    except (ProcessLookupError, FileNotFoundError) as e:
        return report(error="gone", message=str(e))
    except RuntimeError as e:
        code = "disabled" if "not enabled" in str(e) else "failed"
        return report(error=code, message=str(e))
    except OSError as e:
        return report(error="failed", message=str(e))
    wake(pid)
    report(ok=True)


main(int(sys.argv[1]), sys.argv[2])
