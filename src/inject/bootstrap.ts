// The Python lines injected into a running program (attach by process id). They only start one
// raw thread and return, so whichever thread of the program runs them is held for microseconds;
// that thread loads the agent from its folder (nothing is added to sys.path) and dials the
// adapter back (agent/tasklens_agent/attach.py). A failure before the agent can speak the
// protocol is sent back as one `attachFailed` event, so the user reads why instead of a timeout.

/** The code, as one Python text; `script` is the file it came in, removed as it starts. */
export function bootstrapCode(agentFolder: string, port: number, token: string, script?: string): string {
  const args = [py(agentFolder), String(port), py(token), script === undefined ? 'None' : py(script)].join(', ');
  return `def boot(folder, port, token, script):
    import os, sys
    if script:
        try:
            os.unlink(script)
        except OSError:
            pass
    # A busy program hands the GIL over every 5 ms: the agent's start-up (imports) would take
    # seconds at that pace. Handed over ten times as often until the agent is up.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, 0.0005))
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
        finally:
            _imp.release_lock()
        importlib.import_module("tasklens_agent.attach").start(port, token)
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
        sys.setswitchinterval(interval)
import _thread, os, sys
if "threading" not in sys.modules and _thread.get_native_id() == os.getpid():
    import threading  # on the main thread: imported elsewhere, it would take that thread for main
_thread.start_new_thread(boot, (${args}))
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
