"""Requests that read or change a stopped program: stacks, scopes, variables, evaluation.

Each handler runs on the thread that owns the frame or value (parked in `Debugger._park`), or on
the control thread when that thread is not parked (e.g. stuck in native code). Handles are
created here and die when the program resumes.
"""
import itertools
import os
import sys
import time
import traceback

from . import forksafe
from . import await_eval
from . import completions
from . import frames as framemod
from . import paths
from . import task_views
from . import tasks as taskmod
from . import usercode
from . import values
from .protocol import AgentError, BAD_ARGUMENTS, EVAL_ERROR, INVALID_HANDLE
from .saferepr import TIMEOUT, call_with_deadline, safe_repr, safe_str, short_type, type_name
from .threads import thread_by_id
from .usercode import Interrupted

REQUEST_BUDGET = 1.5   # seconds of user __repr__ time one variables request may spend
_source_refs = {}      # filename -> sourceReference, for code with no file on disk
_source_names = {}
# Stack traces of different threads are built at once (parked threads answer on their own).
_source_lock = forksafe.lock()
_source_ids = itertools.count(1)


def source_reference(filename):
    ref = _source_refs.get(filename)
    if ref is None:
        with _source_lock:
            ref = _source_refs.get(filename)
            if ref is None:
                ref = next(_source_ids)
                _source_names[ref] = filename
                _source_refs[filename] = ref
    return ref


class Inspector:
    def __init__(self, core):
        self.core = core

    # --- lookups ---
    def thread_state(self, args):
        if taskmod.is_task_id(args.get("threadId")):
            task, ts = task_views.resolve(self.core, args["threadId"])
            if task is None:
                raise AgentError(INVALID_HANDLE, "task %r has finished" % args["threadId"])
            return None, ts if ts is not None and ts.task is task else None
        thread = thread_by_id(args.get("threadId"))
        ts = self.core.state_for_thread(thread)
        if thread is None:
            raise AgentError(INVALID_HANDLE, "no thread with id %r" % args.get("threadId"))
        return thread, ts

    def frame(self, args):
        entry = self.core.frame_handles.get(args.get("frameId"))
        if entry is None:
            raise AgentError(INVALID_HANDLE, "frame %r is no longer valid" % args.get("frameId"))
        if isinstance(entry[1], task_views.Separator):
            raise AgentError(BAD_ARGUMENTS, "%r is a line between two tasks' frames, not a "
                             "frame: select a frame to evaluate in" % entry[1].label)
        return entry

    def is_separator(self, args):
        entry = self.core.frame_handles.get(args.get("frameId"))
        return entry is not None and isinstance(entry[1], task_views.Separator)

    def default_frame(self, args):
        if args.get("frameId") is not None:
            return self.frame(args)[1]
        for ts in list(self.core.states.values()):
            if ts.parked and ts.frames:
                return ts.frames[0]
        return None

    # --- handlers ---
    def stackTrace(self, args):
        whole(args, "startFrame"), whole(args, "levels")    # checked here for tasks too
        if taskmod.is_task_id(args.get("threadId")):
            return task_views.stack_trace(self.core, args, source_reference)
        thread, ts = self.thread_state(args)
        if ts is not None and ts.parked:
            stack = ts.frames
        else:
            top = sys._current_frames().get(thread.ident)
            stack = framemod.thread_stack(top)
        if args.get("justMyCode", self.core.just_my_code):
            stack = [f for f in stack if paths.is_user(f.f_code.co_filename)]
        if ts is not None and ts.native:    # shown while in native code: say so on top
            stack = [ts.native] + stack
        start = whole(args, "startFrame")
        levels = whole(args, "levels")
        page = stack[start:start + levels] if levels else stack[start:]
        out = []
        for frame in page:
            if isinstance(frame, str):
                out.append(task_views.label_frame(self.core, ts, frame))
                continue
            info = framemod.describe(frame)
            on_disk = info.pop("on_disk")
            info["id"] = self.core.frame_handle(ts, frame)
            if not on_disk:
                info["sourceReference"] = source_reference(frame.f_code.co_filename)
            out.append(info)
        return {"stackFrames": out, "totalFrames": len(stack)}

    def scopes(self, args):
        if self.is_separator(args):
            return {"scopes": []}
        ts, frame = self.frame(args)
        loc = self.core.var_handle(ts, "locals", frame, "")
        glob = self.core.var_handle(ts, "globals", frame, "")
        return {"scopes": [
            {"name": "Locals", "variablesReference": loc,
             "namedVariables": len(frame.f_locals), "expensive": False},
            {"name": "Globals", "variablesReference": glob,
             "namedVariables": len(frame.f_globals), "expensive": False},
        ]}

    def _var_entry(self, args):
        entry = self.core.var_handles.get(args.get("variablesReference"))
        if entry is None:
            raise AgentError(INVALID_HANDLE, "variablesReference %r is no longer valid"
                             % args.get("variablesReference"))
        return entry

    def value_body(self, ts, obj, name, deadline=None, value_timeout=TIMEOUT):
        body = values.describe(obj, deadline, value_timeout)
        body["variablesReference"] = (self.core.var_handle(ts, "object", obj, name)
                                      if values.expandable(obj) else 0)
        return body

    def variables(self, args):
        ts, kind, obj, parent = self._var_entry(args)
        start, count, flt = whole(args, "start"), whole(args, "count"), args.get("filter")
        if kind == "locals":
            items = _scope_items(obj.f_locals)
        elif kind == "globals":
            items = [i for i in _scope_items(obj.f_globals) if i[0] != "__builtins__"]
        else:
            items = values.children(obj, parent, start, count, flt)
            start = count = None
        if start or count:
            s = int(start or 0)
            items = items[s:s + int(count)] if count else items[s:]
        out = []
        deadline = time.monotonic() + REQUEST_BUDGET
        for name, value, evaluate_name in items:
            try:
                body = self.value_body(ts, value, evaluate_name, deadline)
            except Exception as e:      # one value must not take the others down with it
                body = {"value": "<%s object: cannot be shown: %s: %s>" % (
                    short_type(value), short_type(e), safe_str(e, 200)),
                    "type": short_type(value), "variablesReference": 0}
            body["name"] = name
            if evaluate_name:
                body["evaluateName"] = evaluate_name
            out.append(body)
        return {"variables": out}

    def setVariable(self, args):
        ts, kind, obj, parent = self._var_entry(args)
        name = args.get("name")
        if not isinstance(name, str):
            raise AgentError(BAD_ARGUMENTS, "setVariable needs a name")
        frame = obj if kind in ("locals", "globals") else self.default_frame({})
        new = self._eval_value(str(args.get("value", "")), frame)
        try:
            if kind == "locals":
                framemod.set_local(obj, name, new)
            elif kind == "globals":
                obj.f_globals[name] = new
            elif isinstance(obj, dict):
                missing = object()     # None is a key like any other
                key = next((k for k in dict.keys(obj) if safe_repr(k, 200) == name), missing)
                if key is missing:
                    raise AgentError(BAD_ARGUMENTS, "no key %s in this dict" % name)
                obj[key] = new
            elif isinstance(obj, list):
                obj[int(name)] = new
            else:
                setattr(obj, name, new)
        except AgentError:
            raise
        except Exception as e:
            raise AgentError(EVAL_ERROR, "cannot set %s: %s: %s" % (name, type(e).__name__, e))
        return self.value_body(ts, new, None, *_result_budget())

    def _eval_value(self, text, frame):
        g = frame.f_globals if frame is not None else sys.modules["__main__"].__dict__
        loc = frame.f_locals if frame is not None else g
        try:
            return eval(compile(text, "<setVariable>", "eval", dont_inherit=True), g, loc)
        except Interrupted:
            raise
        except BaseException as e:
            raise AgentError(EVAL_ERROR, "%s: %s" % (type(e).__name__, e))

    def evaluate(self, args):
        text = args.get("expression")
        if not isinstance(text, str):
            raise AgentError(BAD_ARGUMENTS, "evaluate needs an expression")
        frame = self.default_frame(args)
        ts = self.frame(args)[0] if args.get("frameId") is not None else None
        g = frame.f_globals if frame is not None else sys.modules["__main__"].__dict__
        loc = frame.f_locals if frame is not None else g
        repl = args.get("context") == "repl"
        note = None     # what else ran while an `await` waited
        flags = await_eval.FLAGS if repl else 0     # `await` at the top: the console only
        try:
            try:
                code = compile(text, "<debug>", "eval", flags=flags, dont_inherit=True)
            except SyntaxError:
                if not repl:
                    raise
                code = compile(text, "<debug>", "exec", flags=flags, dont_inherit=True)
                # eval, not exec: code that awaits gives back its coroutine, to be run here.
                ran = eval(code, g, loc)
                place = frame.f_lasti if frame is not None else None
                if await_eval.is_async(code):
                    note = await_eval.run(ran, text, self.core)[1]
                # A suspended task's frame that ran on meanwhile (the paused loop was turned)
                # keeps what it has: a snapshot written back now would undo its progress.
                if frame is not None and loc is not g and frame.f_lasti == place:
                    framemod.commit_locals(frame)
                body = {"result": "(%s)" % note if note else "", "type": "",
                        "variablesReference": 0}
                if note:
                    body["loopRan"] = True
                return body
            result = eval(code, g, loc)
            if await_eval.is_async(code):
                result, note = await_eval.run(result, text, self.core)
        except (Interrupted, AgentError):
            raise
        except SystemExit as e:     # typed in the console: shown, never obeyed
            return {"result": "SystemExit(%s) raised; the program keeps running"
                    % safe_repr(e.code, 200), "type": "SystemExit", "variablesReference": 0}
        except BaseException as e:
            raise AgentError(EVAL_ERROR, "".join(
                traceback.format_exception_only(type(e), e)).strip())
        body = self.value_body(ts, result, text if args.get("context") != "repl" else None,
                               *_result_budget())
        body["result"] = body.pop("value")
        if note:
            body["result"] += "   (%s)" % note
            body["loopRan"] = True
        return body

    def completions(self, args):
        text = str(args.get("text", ""))
        column = whole(args, "column") or len(text) + 1
        if self.is_separator(args):
            return {"targets": []}
        frame = self.default_frame(args)
        g = frame.f_globals if frame is not None else sys.modules["__main__"].__dict__
        loc = frame.f_locals if frame is not None else g
        return {"targets": completions.targets(text, column, g, loc)}

    def exceptionInfo(self, args):
        _, ts = self.thread_state(args)
        exc = ts.exc if ts is not None else None
        if exc is None:
            raise AgentError(BAD_ARGUMENTS, "this thread did not stop on an exception")
        t = type(exc)
        full = type_name(exc)
        tb = exc.__traceback__
        while tb is not None and paths.is_agent(tb.tb_frame.f_code.co_filename):
            tb = tb.tb_next
        message = safe_str(exc, 2000, TIMEOUT / 2)
        # Formatting runs the exception's __str__ (and its chain's): on the repr worker, with
        # the frames alone and our bounded message when that fails or hangs.
        formatted = call_with_deadline(
            lambda: "".join(traceback.format_exception(t, exc, tb)), TIMEOUT)
        if formatted is not None and formatted[0]:
            stack = formatted[1]
        else:
            stack = "Traceback (most recent call last):\n%s%s: %s\n" % (
                "".join(traceback.format_list(traceback.extract_tb(tb))), full, message)
        return {"exceptionId": full, "description": message, "breakMode": ts.break_mode,
                "details": {"message": message, "typeName": short_type(exc),
                            "fullTypeName": full, "stackTrace": stack}}


def whole(args, key):
    """A count or position argument: a whole number ≥ 0 (0 when absent)."""
    value = args.get(key)
    if value is None:
        return 0
    if type(value) not in (int, float) or value != value or value in (float("inf"), -float("inf")) \
            or int(value) != value or value < 0:
        raise AgentError(BAD_ARGUMENTS, "%s must be a whole number >= 0, not %s"
                         % (key, safe_repr(value, 50)))
    return int(value)


def _result_budget():
    """(deadline, per-repr timeout) for showing a result: within what is left of the
    evaluation's own deadline, so that a slow __repr__ of the result is not what cuts it."""
    left = usercode.time_left()
    if left is None:
        return None, TIMEOUT
    return time.monotonic() + max(left - 0.05, 0), TIMEOUT


def _scope_items(mapping):
    """(name, value, evaluateName) of a namespace; a key that is not a str (a program may
    put anything in globals()) is named by its safe repr and cannot be evaluated."""
    items = []
    for k, v in list(dict.items(mapping) if type(mapping) is dict else mapping.items()):
        if type(k) is str:
            items.append((k, v, k))
        else:
            items.append((safe_repr(k, 200), v, None))
    return items


def source(args):
    ref = args.get("sourceReference")
    filename = _source_names.get(ref)
    if filename is None:
        raise AgentError(INVALID_HANDLE, "unknown sourceReference %r" % ref)
    import linecache    # tokenize and re come with it: not at start-up
    lines = linecache.getlines(filename)
    if not lines:
        raise AgentError(BAD_ARGUMENTS, "no source is available for %s" % filename)
    return {"content": "".join(lines)}


def loaded_sources(main_path):
    seen, out = set(), []
    candidates = [main_path] if main_path else []
    for mod in list(sys.modules.values()):
        f = getattr(mod, "__file__", None)
        if isinstance(f, str) and f.endswith(".py"):
            candidates.append(f)
    for f in candidates:
        path = paths.display(f)
        if path in seen or paths.is_agent(f):
            continue
        seen.add(path)
        out.append({"path": path, "name": os.path.basename(path)})
    return {"sources": out}

