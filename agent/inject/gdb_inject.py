"""Run inside gdb (`gdb -nx -batch -p PID -x gdb_inject.py`): run the attach code in PID.

The code (a file named by TASKLENS_INJECT_CODE, 0600) runs through PyRun_SimpleString on a
thread blocked in a system call, GIL taken with PyGILState_Ensure: such a thread holds no lock
of the interpreter or of malloc, whatever version it runs. When no thread is blocked (every
thread runs Python), the code is left as a pending call, which the main thread runs at its next
bytecode: interrupting a running thread and calling into Python there is never safe.

The text goes into pages of its own (an `mmap` call, which is a bare system call): gdb would
otherwise copy a string argument into memory from the program's `malloc`, called where the
thread stopped, which may be inside `malloc` itself (seen: 1 attach in ~40 to a program busy
allocating hung; in a program of one thread, which runs `malloc` without its lock, the second
call could break the heap instead). The thread path unmaps the pages after the run; the
pending call unmaps them as its last step. A call interrupted by gdb's SIGINT (the GIL never
came) is unwound (`unwindonsignal`), so the program is left as it was. Prints one line:
TASKLENS {"how": "thread"|"pending", "result": N}.
"""
import json
import os

import gdb


# futex(2) by machine: a thread in it may be waiting for the GIL itself, inside take_gil.
FUTEX = {"x86_64": "202", "aarch64": "98"}.get(os.uname().machine)


def blocked_thread(inferior):
    """The main thread if it waits in a system call, else another that does, one waiting
    elsewhere than in a futex first (a futex wait may be a wait for the GIL, where a thread
    of a busy program spends most of its time), else None."""
    ranked = []
    for thread in inferior.threads():
        tid = thread.ptid[1]
        try:
            with open("/proc/%d/task/%d/syscall" % (inferior.pid, tid)) as f:
                call = f.read().split()[0]
        except (OSError, IndexError):
            continue
        if call not in ("running", "-1"):
            ranked.append((tid != inferior.pid, call == FUTEX, thread))
    ranked.sort(key=lambda r: r[:2])
    return ranked[0][2] if ranked else None


# PROT_READ | PROT_WRITE and MAP_PRIVATE | MAP_ANONYMOUS: the same on x86_64 and aarch64.
MMAP = "(long)((void *(*)(void *, unsigned long, int, int, int, long))mmap)(0, %d, 3, 34, -1, 0)"
MUNMAP = "(int)((int (*)(void *, unsigned long))munmap)((void *)%d, %d)"


def fresh_pages(size):
    """The address of SIZE bytes of fresh pages in the program."""
    address = int(gdb.parse_and_eval(MMAP % size))
    if address in (0, -1):
        raise gdb.GdbError("mmap failed in the program")
    return address


def unmapping(address, size):
    """Python lines that give the pages back, in a namespace of their own: the pending call
    runs them once its code has run (PyRun_SimpleString parses the whole text first)."""
    lines = ("import ctypes\n"
             "unmap = ctypes.CDLL(None).munmap\n"
             "unmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)\n"
             "unmap(%d, %d)\n" % (address, size))
    return "exec(%s, {})\n" % ascii(lines)


def main():
    for setting in ("pagination off", "confirm off", "unwindonsignal on"):
        gdb.execute("set " + setting)
    with open(os.environ["TASKLENS_INJECT_CODE"]) as f:
        code = f.read()
    run = "exec(%s, {})" % ascii(code)     # in a namespace of its own, not __main__'s
    size = len(run) + 1024                 # room for the unmapping lines of the pending call
    inferior = gdb.selected_inferior()
    thread = blocked_thread(inferior)
    if thread is not None:
        thread.switch()
    address = fresh_pages(size)
    if thread is not None:
        inferior.write_memory(address, run.encode() + b"\0")
        state = int(gdb.parse_and_eval("(int)PyGILState_Ensure()"))
        result = int(gdb.parse_and_eval("(int)PyRun_SimpleString((char *)%d)" % address))
        gdb.parse_and_eval("(void)PyGILState_Release(%d)" % state)
        gdb.parse_and_eval(MUNMAP % (address, size))
        how = "thread"
    else:
        text = "try:\n    %s\nfinally:\n    %s" % (run, unmapping(address, size))
        inferior.write_memory(address, text.encode() + b"\0")
        result = int(gdb.parse_and_eval(
            "(int)Py_AddPendingCall((int(*)(void*))PyRun_SimpleString, (void*)%d)" % address))
        how = "pending"
    gdb.write("TASKLENS %s\n" % json.dumps({"how": how, "result": result}))


main()
