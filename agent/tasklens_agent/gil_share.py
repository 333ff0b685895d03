"""Turns of the GIL for the agent's threads while they answer, even against a loop that never
sleeps.

Why: a thread waiting for the GIL asks its holder to let go only once it has waited a whole
switch interval (5 ms) without being woken, and the holder wakes it each time it lets go. An
asyncio loop running ready tasks back to back lets go at each iteration's `select(0)`, every
few dozen microseconds, and takes the GIL straight back before the woken thread runs: the
waiter never asks, and gets a turn only when it happens to win that race (measured on such a
loop: seconds for the 300 file reads of an `import`, a first `top` taking 3-8 s). Each file an
answer reads, each module it imports, each socket call is such a turn. A smaller switch
interval alone does not cure it during an answer (see the last paragraph).

So while an answer is being worked on, each event loop running on another thread gets a
callback of ours in its ready queue that lets go of the GIL for a moment (`YIELD_S`) once per
iteration of the loop, while nothing of the loop's wants it: the waiting agent thread takes it
then, and keeps it until it waits on something or its switch interval is up. The callback puts
itself back for the next iteration until no answer is in progress, then leaves; it leaves too
when nothing else is ready (the loop then waits in `select` without the GIL: an idle loop woken
by a timer is not kept turning). A program no one asks anything pays nothing; while one is
answered, its loop shares the interpreter with the answer. On asyncio's loops the callback goes straight into the ready queue (a thread-safe
`deque.append`, with no wake-up write: a loop that sleeps in `select` does not hold the GIL,
and a busy one finds it at its next iteration); on others (uvloop) through
`call_soon_threadsafe`.

The first turn, when a connection arrives, cannot come that way: only a thread holding the GIL
can post the callback, and the listener thread is the one waiting (a busy loop of a few hundred
ready tasks kept a `top` out for more than its 10 s). So the listener thread waits for a
connection with `poll` before it accepts it, and each loop started under `tasklens run` also
watches the listening socket (`add_reader`: one `epoll_ctl` at the loop's start, nothing per
iteration). A connection waiting to be accepted makes the loop's `select` return it too, and
the reader lets go of the GIL in short sleeps until the listener thread has accepted it and
posted the callbacks above (at most `KNOCK_WAIT_S`; after a wait that long, the reader waits
no more for a second). A loop that no one connects to never sees the reader run.
Diagnostics know the socket is ours (`listener_fd`): it wakes no task of the program.

A request arriving on a connection that is open already is the same race, with no socket a
loop could watch (the control thread reads it as it arrives). For that one, while a connection
that came through the listener (`top`, `ps`, a debugger attached to `tasklens run`) is open and
no answer is in progress, the switch interval is made short (`WAIT_INTERVAL_S`): a woken thread
then asks for the GIL before the loop's next `select` wakes it again. It cannot stay short during
an answer (the agent's thread and a busy loop would then take turns every few microseconds, an
answer of 2 ms taking 120), so an answer gives the program its own interval back and relies on
the callbacks above. A program whose threads compete for the GIL switches between them more
often while such a connection is open; one that sets its own interval keeps it.
"""
import os
import sys
import threading
import time
import weakref

from . import forksafe
from . import tasks as taskmod

YIELD_S = 0.0002        # per loop iteration, while an answer is in progress
KNOCK_WAIT_S = 0.05     # the longest a loop waits for the listener thread to take a connection
WAIT_INTERVAL_S = 1e-5  # the switch interval between answers, while a connection is open

_lock = forksafe.lock()
_claims = 0
_posted = set()         # id(loop) of the loops whose callback is queued
listener_fd = None      # the agent's listening socket (under `tasklens run`)
_listener_pid = None
_watching = weakref.WeakSet()   # the loops that watch it (one that takes no weak reference
                                # is asked again at each start: add_reader replaces its own)
_accepted = 0           # connections the listener thread has taken (a waiting loop counts them)
_calm_until = 0.0       # a loop that waited KNOCK_WAIT_S in vain waits no more until then
_open = 0               # connections through the listener, open now
_program_interval = None    # the program's switch interval, while ours is set


def watch_listener(fd):
    """The agent listens on `fd` (main.listen): loops that start from now on watch it."""
    global listener_fd, _listener_pid
    listener_fd, _listener_pid = fd, os.getpid()


def loop_started(loop, _frame=None):
    """A loop starts running on this thread (task_origins' loop watchers): it watches the
    listening socket, once."""
    if listener_fd is None or os.getpid() != _listener_pid:
        return
    try:
        if loop in _watching:
            return
    except TypeError:
        pass
    try:
        loop.add_reader(listener_fd, _knocked, loop)
    except Exception:       # a loop without readers: it has the race only
        return
    try:
        _watching.add(loop)
    except TypeError:
        pass


def accept(server):
    """The listener thread's wait for the next connection: its file descriptor, accepted with
    an answer's claim held (`release()` once the session is open)."""
    global _accepted
    import select
    waiting = select.poll()     # not select(): a forked child's listener may be past fd 1023
    waiting.register(server.fileno(), select.POLLIN)
    waiting.poll()
    fd, _ = server._accept()
    claim()
    _accepted += 1
    return fd


def _knocked(loop):
    """A connection waits for the listener thread, which waits for the GIL."""
    global _calm_until
    if os.getpid() != _listener_pid:    # a forked child's copy of the loop
        try:
            loop.remove_reader(listener_fd)
        except Exception:
            pass
        return
    now = time.monotonic()
    if now < _calm_until:
        return
    seen, until = _accepted, now + KNOCK_WAIT_S
    while _accepted == seen:
        if time.monotonic() > until:
            _calm_until = until + 1.0
            return
        time.sleep(YIELD_S)


def opened():
    """A connection came through the listener (called with an answer's claim held)."""
    global _open
    with _lock:
        _open += 1
        _set_interval()


def closed():
    global _open
    with _lock:
        if _open:
            _open -= 1
        _set_interval()


def _set_interval():
    """Short while a connection is open and no answer is in progress; else the program's."""
    global _program_interval
    short = _open > 0 and _claims == 0
    now = sys.getswitchinterval()
    if _program_interval is not None and abs(now - WAIT_INTERVAL_S) > 1e-7:
        _program_interval = None    # the program set one of its own: it stays
        return
    if short and _program_interval is None:
        _program_interval = now
        sys.setswitchinterval(WAIT_INTERVAL_S)
    elif not short and _program_interval is not None:
        sys.setswitchinterval(_program_interval)
        _program_interval = None


def claim():
    """An answer begins (counted: answers may overlap)."""
    global _claims
    with _lock:
        _claims += 1
        me = threading.get_ident()
        for ident, loop in list(taskmod._running.items()):
            if ident != me and id(loop) not in _posted:
                try:
                    _post(loop)
                except Exception:   # a closed or strange loop: its program still runs
                    continue
                _posted.add(id(loop))
        # Only now the program's interval, if a short one is on: a thread that lost the GIL
        # before its callbacks were queued got it back only by luck under the long one (seen:
        # a `top` sample waiting 4-15 s, its thread stopped inside Handle() above).
        _set_interval()


def release():
    """An answer is sent."""
    global _claims
    with _lock:
        if _claims:
            _claims -= 1
        _set_interval()


class sharing:
    """`with gil_share.sharing():` around the work of one answer (`sharing(False)`: an answer
    that needs no turns, the program being stopped)."""
    __slots__ = ("on",)

    def __init__(self, on=True):
        self.on = on

    def __enter__(self):
        if self.on:
            claim()

    def __exit__(self, *exc):
        if self.on:
            release()
        return False


def _post(loop):
    ready = getattr(loop, "_ready", None)
    if type(ready) is getattr(sys.modules.get("collections"), "deque", None):
        events = sys.modules["asyncio.events"]
        turn = _Turn(loop, ready)
        turn.handle = events.Handle(turn.run, (), loop, None)
        ready.append(turn.handle)
    else:
        loop.call_soon_threadsafe(_Turn(loop, None).run)


class _Turn:
    """The callback on one loop: runs on the loop's thread, between two of its callbacks."""
    __slots__ = ("loop", "ready", "handle", "woken")

    def __init__(self, loop, ready):
        self.loop, self.ready, self.handle = loop, ready, None
        self.woken = True

    def run(self):
        with _lock:
            if not _claims or (self.ready is not None and not self.ready):
                # No answer; or nothing else is ready, so the loop goes on to wait in select
                # without the GIL: kept turning, it would wait for the GIL again each time.
                _posted.discard(id(self.loop))
                return
        if self.woken:
            # Its first run: the loop may have just woken from a wait (for a timer, say) with
            # the turn queued before what woke it. That goes first; sleeping here made the loop
            # wait for the GIL twice before it (timers 11-14 ms late during a `top` refresh of
            # an idle program instead of 6).
            self.woken = False
        else:
            time.sleep(YIELD_S)
        if self.ready is not None:
            self.ready.append(self.handle)
        else:
            self.loop.call_soon(self.run)


def _forked():
    """A child forked mid-answer: its threads are gone, and so are the answers (`_lock` is
    free again: forksafe)."""
    global _claims, _open
    _claims = _open = 0
    _set_interval()
    _posted.clear()
    _watching.clear()   # the parent's listener: the child listens on its own


os.register_at_fork(after_in_child=_forked)
