// The Python lines injected into a running program (attach by process id). They start one raw
// thread, which loads the agent from its folder (nothing is added to sys.path) and dials the
// adapter back (agent/tasklens_agent/attach.py). The program's thread that ran them (when no
// gdb holds the process) waits, GIL released, until that thread has imported the agent (a second
// at most): in a busy program the imports would otherwise get the GIL only between the program's
// own turns, several times slower.
// A failure before the agent can speak the protocol is sent back as one `attachFailed` event, so
// the user reads why instead of a timeout.

/** The code, as one Python text; `script` is the file it came in, removed as it starts. */
export function bootstrapCode(agentFolder: string, port: number, token: string, script?: string): string {
  const args = [py(agentFolder), String(port), py(token), script === undefined ? 'None' : py(script)].join(', ');
  return `def boot(folder, port, token, script, imported):
    import os, sys
    if script:
        try:
            os.unlink(script)
        except OSError:
            pass
    # Past the imports the program runs again: the GIL is handed over ten times as often
    # (every 0.5 ms) until the agent is up. Only the run that lowered it puts it back: a second
    # run at once (the other way in) would read the lowered value and leave it so for good.
    interval = sys.getswitchinterval()
    lowers = interval > 0.0005
    if lowers:
        sys.setswitchinterval(0.0005)
    try:
        try:
            import _imp, importlib, importlib.util
            _imp.acquire_lock()     # the same code may run twice at once (two ways in)
            try:
                if "tasklens_agent" not in sys.modules:
                    package = os.path.join(folder, "tasklens_agent")
                    spec = importlib.util.spec_from_file_location(
                        "tasklens_agent", os.path.join(package, "__init__.py"),
                        submodule_search_locations=[package])
                    module = importlib.util.module_from_spec(spec)
                    sys.modules["tasklens_agent"] = module
                    spec.loader.exec_module(module)
                attach = importlib.import_module("tasklens_agent.attach")
            finally:
                _imp.release_lock()
        finally:
            imported.release()
        attach.start(port, token)
    except BaseException as e:
        try:
            import json, socket
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                body = {"token": token, "message": "%s: %s" % (type(e).__name__, e)}
                line = json.dumps({"type": "event", "event": "attachFailed", "body": body})
                s.sendall(line.encode() + b"\\n")
        except BaseException:
            pass
    finally:
        if lowers:
            sys.setswitchinterval(interval)
import _thread, os, sys
if "threading" not in sys.modules and _thread.get_native_id() == os.getpid():
    import threading  # on the main thread: imported elsewhere, it would take that thread for main
imported = _thread.allocate_lock()
imported.acquire()
_thread.start_new_thread(boot, (${args}, imported))
with open("/proc/self/status") as status:
    traced = "\\nTracerPid:\\t0\\n" not in status.read()
# Not while gdb still holds the process (a call on a blocked thread, with no GIL to share):
# there each extension module the agent loads stops the process for gdb's library event.
# Bounded: the import may wait for a module this thread is itself halfway through importing.
if not traced:
    imported.acquire(timeout=1)
`;
}

/** The same code as a script file for `sys.remote_exec`, run in a namespace of its own. */
export function scriptText(code: string): string {
  return `exec(${py(code)}, {})\n`;
}

/** What a script still pending in the target runs once its attach is over: it removes itself. */
export function leftoverScript(script: string): string {
  return `import os\ntry:\n    os.unlink(${py(script)})\nexcept OSError:\n    pass\n`;
}

/** A Python string literal (JSON's escapes are Python's for everything JSON emits). */
function py(text: string): string {
  return JSON.stringify(text);
}
