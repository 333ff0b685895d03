"""Run inside gdb (`gdb -nx -batch -p PID -x gdb_inject.py`): run the attach code in PID.

The code (a file named by TASKLENS_INJECT_CODE, 0600) runs through PyRun_SimpleString on a
thread blocked in a system call, GIL taken with PyGILState_Ensure: such a thread holds no lock
of the interpreter or of malloc, whatever version it runs. When no thread is blocked (every
thread runs Python), the code is left as a pending call, which the main thread runs at its next
bytecode: interrupting a running thread and calling into Python there is never safe. A call
interrupted by gdb's SIGINT (the GIL never came) is unwound (`unwindonsignal`), so the program
is left as it was. Prints one line: TASKLENS {"how": "thread"|"pending", "result": N}.
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


def main():
    for setting in ("pagination off", "confirm off", "unwindonsignal on"):
        gdb.execute("set " + setting)
    with open(os.environ["TASKLENS_INJECT_CODE"]) as f:
        code = f.read()
    # One C string literal without newlines, whatever the code holds.
    literal = '"%s"' % ("exec(%s, {})" % ascii(code)).replace("\\", "\\\\").replace('"', '\\"')
    thread = blocked_thread(gdb.selected_inferior())
    if thread is not None:
        thread.switch()
        state = int(gdb.parse_and_eval("(int)PyGILState_Ensure()"))
        result = int(gdb.parse_and_eval("(int)PyRun_SimpleString(%s)" % literal))
        gdb.parse_and_eval("(void)PyGILState_Release(%d)" % state)
        how = "thread"
    else:
        result = int(gdb.parse_and_eval(
            "(int)Py_AddPendingCall((int(*)(void*))PyRun_SimpleString, (void*)%s)" % literal))
        how = "pending"
    gdb.write("TASKLENS %s\n" % json.dumps({"how": how, "result": result}))


main()
