// `tasklens demo`: a guided debugging session on the bundled example, printed as a transcript.
//
// It runs the real adapter (`tasklens dap`) as a child process and talks DAP to it over stdio,
// exactly as an editor would, so the transcript shows what an editor user sees.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { Command } from 'commander';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { findPython } from '../agent/findPython';
import { FrameReader, writeFrame } from '../dap/framing';
import { CliError } from './failure';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const exampleProgram = path.join(repoRoot, 'examples', 'orders.py');

type Listener = (message: DebugProtocol.ProtocolMessage) => void;

class ScriptedClient {
  private seq = 1;
  private listeners: Listener[] = [];

  constructor(private readonly input: Writable, reader: FrameReader) {
    reader.on('message', (text) => {
      const message = JSON.parse(text) as DebugProtocol.ProtocolMessage;
      for (const listener of [...this.listeners]) listener(message);
    });
  }

  private waitFor<T extends DebugProtocol.ProtocolMessage>(match: (m: DebugProtocol.ProtocolMessage) => boolean,
    what: string, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(new CliError(`demo: timed out waiting for ${what}`));
      }, timeoutMs);
      const listener: Listener = (m) => {
        if (!match(m)) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
        resolve(m as T);
      };
      this.listeners.push(listener);
    });
  }

  event<T extends DebugProtocol.Event>(name: string): Promise<T> {
    return this.waitFor<T>((m) => m.type === 'event' && (m as DebugProtocol.Event).event === name, `event ${name}`);
  }

  onEvent(name: string, handler: (event: DebugProtocol.Event) => void): void {
    this.listeners.push((m) => {
      if (m.type === 'event' && (m as DebugProtocol.Event).event === name) handler(m as DebugProtocol.Event);
    });
  }

  async request<T extends DebugProtocol.Response>(command: string, args?: object): Promise<T> {
    const seq = this.seq++;
    const response = this.waitFor<T>((m) => m.type === 'response' && (m as DebugProtocol.Response).request_seq === seq,
      `the ${command} response`);
    writeFrame(this.input, { seq, type: 'request', command, arguments: args });
    const result = await response;
    if (!result.success) throw new CliError(`demo: ${command} failed: ${result.message}`);
    return result;
  }
}

function lineOf(file: string, marker: string): number {
  return fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(marker)) + 1;
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function runDemo(requested: string | undefined): Promise<void> {
  const { interpreter, note } = await findPython(requested);
  if (note) process.stderr.write(`tasklens demo: ${note}\n`);
  const python = interpreter.path;
  const adapter = spawn(process.execPath, [path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'dap'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const client = new ScriptedClient(adapter.stdin, new FrameReader(adapter.stdout));
  const relative = path.relative(process.cwd(), exampleProgram);
  const breakLine = lineOf(exampleProgram, 'the demo stops here');
  say(`tasklens demo: debugging ${relative} with ${requested ?? path.basename(python)} (Python ${interpreter.version.join('.')})`);
  // Output arrives in whatever pieces the program wrote; show it a whole line at a time.
  const pending: Record<string, string> = { stdout: '', stderr: '' };
  client.onEvent('output', (e) => {
    const body = (e as DebugProtocol.OutputEvent).body;
    const category = body.category ?? 'console';
    if (category !== 'stdout' && category !== 'stderr') return;
    const lines = (pending[category] + body.output).split('\n');
    pending[category] = lines.pop() ?? '';
    for (const line of lines) say(`  program ${category}| ${line}`);
  });
  try {
    await client.request('initialize', { adapterID: 'tasklens', clientID: 'tasklens-demo', linesStartAt1: true,
      columnsStartAt1: true, pathFormat: 'path' });
    const initialized = client.event('initialized');
    const launched = client.request('launch', { program: exampleProgram, python, justMyCode: true });
    await Promise.race([initialized, launched]);
    const bps = await client.request<DebugProtocol.SetBreakpointsResponse>('setBreakpoints',
      { source: { path: exampleProgram }, breakpoints: [{ line: breakLine }] });
    say(`> set a breakpoint at ${path.basename(exampleProgram)}:${breakLine} ` +
      `(${bps.body.breakpoints[0]?.verified ? 'verified' : 'not verified yet'})`);
    const stopped = client.event<DebugProtocol.StoppedEvent>('stopped');
    await client.request('configurationDone');
    await launched;
    const stop = await stopped;
    const threadId = stop.body.threadId ?? 1;
    const threads = await client.request<DebugProtocol.ThreadsResponse>('threads');
    const name = threads.body.threads.find((t) => t.id === threadId)?.name ?? String(threadId);
    say(`* stopped (${stop.body.reason}) in thread "${name}"`);
    say('  threads:');
    for (const t of threads.body.threads) say(`    ${String(t.id).padStart(8)}  ${t.name}`);
    await showStack(client, threadId);
    say('> evaluate: unit * order.quantity');
    const stack = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId, levels: 1 });
    const frameId = stack.body.stackFrames[0].id;
    const value = await client.request<DebugProtocol.EvaluateResponse>('evaluate',
      { expression: 'unit * order.quantity', frameId, context: 'repl' });
    say(`  = ${value.body.result}`);
    // Other workers would hit the same breakpoint while this one steps (a breakpoint ends a step).
    say('> remove the breakpoint');
    await client.request('setBreakpoints', { source: { path: exampleProgram }, breakpoints: [] });
    const stepOnce = async (step: 'next' | 'stepOut'): Promise<DebugProtocol.StackFrame> => {
      const stepped = client.event<DebugProtocol.StoppedEvent>('stopped');
      await client.request(step, { threadId });
      const where = await stepped;
      const top = await client.request<DebugProtocol.StackTraceResponse>('stackTrace',
        { threadId: where.body.threadId, levels: 1 });
      const frame = top.body.stackFrames[0];
      const names = await client.request<DebugProtocol.ThreadsResponse>('threads');
      const thread = names.body.threads.find((t) => t.id === where.body.threadId)?.name ?? '?';
      say(`> ${step}: now in ${frame.name} at ${path.basename(frame.source?.path ?? '?')}:${frame.line} ("${thread}")`);
      return frame;
    };
    let frame = await stepOnce('next');
    frame = await stepOnce('stepOut');
    // Walk to the `await asyncio.sleep(...)` line, then step over it: the other workers run
    // meanwhile, and the step still ends in this task, at its next line.
    const awaitLine = lineOf(exampleProgram, 'await asyncio.sleep');
    for (let i = 0; i < 8 && frame.line !== awaitLine; i++) frame = await stepOnce('next');
    say('  (stepping over the await: the other workers run meanwhile)');
    frame = await stepOnce('next');
    const order = await client.request<DebugProtocol.EvaluateResponse>('evaluate',
      { expression: 'order', frameId: frame.id, context: 'hover' });
    say(`  order = ${order.body.result}`);
    say('> continue');
    const exited = client.event<DebugProtocol.ExitedEvent>('exited');
    const terminated = client.event('terminated');
    await client.request('continue', { threadId });
    const exit = await exited;
    await terminated;
    say(`* the program exited with code ${exit.body.exitCode}`);
    await client.request('disconnect', {}).catch(() => undefined);
  } finally {
    adapter.kill();
  }
}

async function showStack(client: ScriptedClient, threadId: number): Promise<void> {
  const stack = await client.request<DebugProtocol.StackTraceResponse>('stackTrace', { threadId, startFrame: 0, levels: 20 });
  say('  stack (innermost first):');
  for (const frame of stack.body.stackFrames) {
    say(`    ${frame.name.padEnd(12)} ${path.basename(frame.source?.path ?? '?')}:${frame.line}`);
  }
  const scopes = await client.request<DebugProtocol.ScopesResponse>('scopes', { frameId: stack.body.stackFrames[0].id });
  const locals = scopes.body.scopes.find((s) => s.name === 'Locals');
  if (!locals) return;
  const vars = await client.request<DebugProtocol.VariablesResponse>('variables',
    { variablesReference: locals.variablesReference });
  say(`  locals of ${stack.body.stackFrames[0].name}:`);
  for (const v of vars.body.variables) say(`    ${v.name} = ${v.value}`);
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('run a short, printed debugging session on the bundled example (examples/orders.py)')
    .option('--python <path>', 'Python interpreter to debug with (default: python3 when 3.11+, else the newest python3.N on PATH)')
    .action(async (options: { python?: string }) => {
      await runDemo(options.python);
    });
}
