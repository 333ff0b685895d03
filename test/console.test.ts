// `console`: the program runs in a terminal of the client (DAP runInTerminal) with a real tty,
// by default when the client can run one; the session still stops at breakpoints and gets the
// exit code and `terminated`. Also the DAP `process` event of a launch.
// The test plays the client's part: it answers runInTerminal by starting the command under
// `script` (util-linux), which gives it a pseudo-terminal, and types into that terminal.
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter, type Harness } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';
import type { Python } from './support/pythons';
import { lineOf } from './async_support';

const program = fixture('terminal_io.py');

interface Terminal {
  request?: DebugProtocol.RunInTerminalRequestArguments;
  child?: ChildProcess;
  output: string;
}

type Wire = { dispatch(body: string): void; outputStream: NodeJS.WritableStream; sequence: number };

/** Answers the adapter's runInTerminal requests the way an editor does, with a pty from `script`. */
function serveTerminals(h: Harness): Terminal {
  const terminal: Terminal = { output: '' };
  const wire = h.dc as unknown as Wire;
  const dispatch = wire.dispatch.bind(wire);
  wire.dispatch = (body: string) => {
    const message = JSON.parse(body) as DebugProtocol.ProtocolMessage;
    if (message.type !== 'request') return dispatch(body);
    const request = message as DebugProtocol.RunInTerminalRequest;
    terminal.request = request.arguments;
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [key, value] of Object.entries(request.arguments.env ?? {})) {
      if (value === null) delete env[key];
      else env[key] = value;
    }
    const child = spawn('script', ['-qfec', request.arguments.args.map(shellQuote).join(' '), '/dev/null'], {
      cwd: request.arguments.cwd,
      env,
      detached: true,
    });
    terminal.child = child;
    child.stdout!.on('data', (chunk: Buffer) => (terminal.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (terminal.output += chunk.toString()));
    const response: DebugProtocol.RunInTerminalResponse = {
      seq: wire.sequence++,
      type: 'response',
      request_seq: request.seq,
      command: request.command,
      success: true,
      body: { shellProcessId: child.pid },
    };
    const json = JSON.stringify(response);
    wire.outputStream.write(`Content-Length: ${Buffer.byteLength(json, 'utf8')}\r\n\r\n${json}`, 'utf8');
  };
  return terminal;
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

function closeTerminal(terminal: Terminal): void {
  const pid = terminal.child?.pid;
  if (pid === undefined || terminal.child?.exitCode !== null) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* gone already */
  }
}

async function waitForTerminal(terminal: Terminal, pattern: RegExp, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pattern.test(terminal.output)) {
    if (Date.now() > deadline) throw new Error(`terminal never showed ${pattern}; it shows ${JSON.stringify(terminal.output)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function start(h: Harness, py: Python, args: Record<string, unknown>, runsTerminals: boolean, configure?: () => Promise<void>): Promise<void> {
  const since = h.mark();
  await h.dc.initializeRequest({ adapterID: 'tasklens', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsRunInTerminalRequest: runsTerminals });
  await h.dc.launchRequest({ python: py.path, program, ...args } as DebugProtocol.LaunchRequestArguments);
  await h.waitFor('initialized', since);
  if (configure) await configure();
  await h.dc.configurationDoneRequest();
}

eachPython('console', (py) => {
  it('runs in the client\'s terminal by default: a tty, input() reads what is typed, breakpoints, exit code', async () => {
    await withAdapter(async (h) => {
      const terminal = serveTerminals(h);
      try {
        const since = h.mark();
        const greeting = lineOf(program, 'GREETING');
        await start(h, py, {}, true, async () => {
          await h.dc.setBreakpointsRequest({ source: { path: program }, breakpoints: [{ line: greeting }] });
        });
        assert.equal(terminal.request?.kind, 'integrated');
        assert.equal(terminal.request?.args[0], py.path);
        const proc = await h.waitFor<DebugProtocol.ProcessEvent>('process', since);
        assert.equal(proc.body.startMethod, 'launch');
        assert.equal(proc.body.name, program);
        await waitForTerminal(terminal, /tty True True/);
        await waitForTerminal(terminal, /name\? /);
        terminal.child!.stdin!.write('world\n');
        const stop = await h.waitStopped(since);
        const top = await h.topFrame(stop.body.threadId);
        assert.equal(top.line, greeting);
        assert.equal((await h.locals(top.id)).get('name')?.value, "'world'");
        const resumed = h.mark();
        await h.dc.continueRequest({ threadId: stop.body.threadId });
        assert.equal(await h.exitCode(resumed), 7);
        await waitForTerminal(terminal, new RegExp(`hello world from ${proc.body.systemProcessId}`));
        assert.equal(h.output('stdout'), '', 'the program writes to its terminal, not to output events');
      } finally {
        closeTerminal(terminal);
      }
    });
  });

  it('externalTerminal asks for an external terminal', async () => {
    await withAdapter(async (h) => {
      const terminal = serveTerminals(h);
      try {
        const since = h.mark();
        await start(h, py, { console: 'externalTerminal' }, true);
        assert.equal(terminal.request?.kind, 'external');
        await waitForTerminal(terminal, /name\? /);
        terminal.child!.stdin!.write('there\n');
        assert.equal(await h.exitCode(since), 7);
        await waitForTerminal(terminal, /hello there/);
      } finally {
        closeTerminal(terminal);
      }
    });
  });

  it('internalConsole (and a client without terminals) keeps output in output events, pid in the process event', async () => {
    for (const [args, runsTerminals] of [[{ console: 'internalConsole' }, true], [{ console: 'integratedTerminal' }, false]] as const) {
      await withAdapter(async (h) => {
        const terminal = serveTerminals(h);
        const since = h.mark();
        await start(h, py, args, runsTerminals, async () => {
          await h.dc.setExceptionBreakpointsRequest({ filters: [] });   // run through the EOFError
        });
        assert.equal(terminal.request, undefined, 'no terminal was asked for');
        const proc = await h.waitFor<DebugProtocol.ProcessEvent>('process', since);
        assert.equal(await h.exitCode(since), 1, 'input() meets the end of its input');
        assert.match(h.output('stdout'), new RegExp(`^tty False False$`, 'm'));
        assert.match(h.output('stderr'), /EOFError/);
        assert.equal(typeof proc.body.systemProcessId, 'number');
        if (!runsTerminals) assert.match(h.output('important'), /needs a client that runs terminals/);
      });
    }
  });

  it('refuses an unknown console, naming it', async () => {
    await withAdapter(async (h) => {
      await h.dc.initializeRequest();
      await assert.rejects(h.dc.launchRequest({ python: py.path, program, console: 'tty' } as DebugProtocol.LaunchRequestArguments), /"console" must be one of/);
    });
  });
});
