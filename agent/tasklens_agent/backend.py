"""The contract between the debugger core and a tracing backend.

A backend turns the interpreter's tracing facility into the few events the core decides on, and
keeps the cost of that at zero where nothing needs an event. Three implement this class:
`monitoring` (sys.monitoring, 3.12+), `hooked` (3.11: breakpoints compiled into the code, trace
functions only on the threads that need one) and `settrace` (sys.settrace everywhere it is
needed; 3.11 builds the hooked backend cannot drive, or TASKLENS_BACKEND=settrace on 3.12+).
`name` is what the `hello` message reports.

Who calls what:
- the agent's start-up (main thread, before the program runs): `program_code`, then `start`;
- the control thread, after it changed breakpoints, filters or justMyCode:
  `refresh(plans_changed=True)`; after it started a step, asked for a pause, or resumed:
  `refresh()` (the core calls it too when a step moves between frames, on a program thread);
- a thread leaving its parked state (on that thread): `thread_resumed`;
- the last adapter gone with nobody able to attach again: `shutdown`.

State of the core a backend may read (never write), on any thread, without the core's lock:
- `hot`, `everywhere`: whether line events are needed beyond breakpoints, and in every frame;
- `step` (None or a `stepping.Step`): `kind`, `watch` (the frame whose return moves the step),
  `owner` (a thread ident, a task, or a tuple of tasks) and `owns(current_owner())`;
- `stopped`, `exception_filters`, and through `eligible(filename)` the justMyCode choice;
- `bps.by_file`, `bps.functions`, `bps.pending` (replaced whole by the control thread, never
  changed in place: a reader sees the old table or the new one) and `bps.loaded_files`;
- `states[ident].parked` (the hooked backend: a parked thread runs requests untraced);
- `code_plan(code, module_name)`: a code object's breakpoint lines and function breakpoints,
  asked once per code object first seen (it also verifies breakpoints waiting for the file).

Events a backend hands on, on the program thread that caused them, with the frame alive. The core
is their one consumer today; a further one (a blocked-loop watchdog, per-task timing) takes the
same events with the same guarantees, and gets them only where the backend already asks the
interpreter for them (no event costs anything where no consumer needs it):
- `core.on_call(frame, function_breakpoints)`: a frame of code with function breakpoints starts
  or resumes;
- `core.on_line(frame, breakpoints_or_None)`: a line starts in a frame that has breakpoints on it,
  or anywhere line events are needed (`hot` / `everywhere`);
- `core.on_return(frame, how, exc=None, tb=None)`: while a step is pending (and for `unwind`
  while `taskUnhandled` is on), a watched frame returns (`"return"`), suspends at an await or
  yield (`"suspend"`) or is left by an exception (`"unwind"`, with the exception);
- `core.on_raise(frame, exc, tb)`: an exception is raised or passes through a frame, while the
  `raised` filter is on.
Events never come from the agent's own threads (`threads.agent_idents`).
"""


class Backend:
    name = None

    def __init__(self, core):
        self.core = core

    def program_code(self, code, path):
        """The main program's code object, changed if this backend compiles breakpoints into
        code. Called once, before `start`, for a program run from a path (not `-m`)."""
        return code

    def start(self):
        """Begin delivering events for the program (breakpoints set before start included)."""
        raise NotImplementedError

    def refresh(self, plans_changed=False):
        """Bring what is traced in line with the core's state. `plans_changed`: breakpoints,
        exception filters or justMyCode changed, so cached per-code decisions are rebuilt
        (rebuilt only then: a line event racing with a rebuild could miss its breakpoint)."""
        raise NotImplementedError

    def thread_resumed(self):
        """On a thread leaving its parked state: give it the tracing a pending step needs."""

    def shutdown(self):
        """Stop delivering events for good and leave no trace function or event behind."""
        raise NotImplementedError
