// A DAP fuzzer: random sequences of valid and invalid requests (wrong types, huge numbers,
// unknown and stale ids, the wrong run state), interleaved with steps and continues, against a
// real program, launched or attached. Invariants: every request is answered exactly once, the
// adapter stays up, the program is not left stopped (after a continue, or a disconnect from an
// attached program) and prints and exits as it does without a debugger.
//
// TASKLENS_FUZZ_SEED=N replays a run (its base seed is printed; each test takes the next seed
// in order, so replay with the same interpreters); TASKLENS_FUZZ_REQUESTS=N sends N requests
// per test (default 60); TASKLENS_FUZZ_VERBOSE=1 prints every error answer.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { listDiscoveryRecords } from '../src/agent/discovery';
import { eachPython, it } from './support/matrix';
import { MAIN_JS, fixture } from './support/paths';
import type { Python } from './support/pythons';

const PROGRAM = fixture('fuzz_target.py');
const LINES = fs.readFileSync(PROGRAM, 'utf8').split('\n').length;
const REQUESTS = Number(process.env.TASKLENS_FUZZ_REQUESTS ?? 60);
const BASE_SEED = process.env.TASKLENS_FUZZ_SEED !== undefined ? Number(process.env.TASKLENS_FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const ANSWER_MS = 20_000;

type Message = Record<string, unknown> & { type: string; seq: number };

/** mulberry32: small, seedable, good enough to pick requests. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A DAP client that sends anything and counts every response by request seq. */
class FuzzClient {
  readonly adapter: ChildProcess;
  readonly events: Message[] = [];
  readonly answers = new Map<number, Message[]>();
  private buffer = Buffer.alloc(0);
  private seq = 1;
  private readonly waiting = new Map<number, (m: Message) => void>();
  private stderr = '';

  constructor() {
    this.adapter = spawn(process.execPath, [MAIN_JS, 'dap'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.adapter.stdout!.on('data', (chunk: Buffer) => this.receive(chunk));
    this.adapter.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
  }

  get alive(): boolean {
    return this.adapter.exitCode === null && this.adapter.signalCode === null;
  }

  get lastWords(): string {
    return this.stderr;
  }

  request(command: string, args: unknown): Promise<Message> {
    const seq = this.seq++;
    const body = JSON.stringify({ seq, type: 'request', command, arguments: args });
    this.adapter.stdin!.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to #${seq} ${command} ${JSON.stringify(args)?.slice(0, 200)} within ${ANSWER_MS} ms`)), ANSWER_MS);
      this.waiting.set(seq, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  sent(): number {
    return this.seq - 1;
  }

  async waitEvent(name: string, since: number, ms = ANSWER_MS): Promise<Message> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.events.slice(since).find((e) => e.event === name);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${name} event within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  stdout(): string {
    return this.events
      .filter((e) => e.event === 'output' && (e.body as { category: string }).category === 'stdout')
      .map((e) => (e.body as { output: string }).output)
      .join('');
  }

  kill(): void {
    if (this.alive) this.adapter.kill('SIGKILL');
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/.exec(this.buffer.subarray(0, end).toString())?.[1]);
      if (this.buffer.length < end + 4 + length) return;
      const message = JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString()) as Message;
      this.buffer = this.buffer.subarray(end + 4 + length);
      if (message.type === 'response') {
        const seq = message.request_seq as number;
        this.answers.set(seq, [...(this.answers.get(seq) ?? []), message]);
        this.waiting.get(seq)?.(message);
        this.waiting.delete(seq);
      } else {
        this.events.push(message);
      }
    }
  }
}

/** What the fuzzer has seen so far: live and stale handles to reuse. */
class Seen {
  threads = new Set<number>([1]);
  frames = new Set<number>();
  refs = new Set<number>();
  names = new Map<number, string[]>();
}

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)];
}

function junk(r: () => number): unknown {
  return pick(r, [null, -1, 0, 2 ** 31, 2 ** 53, 1e308, -1e308, 1.5, '', 'x', '7', true, [], [1, 2], {}, { a: 1 }, 'ü\u0000\u{1F600}', 'x'.repeat(10_000)]);
}

/** Mostly a handle seen lately (live, or stale after a resume), sometimes any seen, or junk. */
function id(r: () => number, pool: Set<number>): unknown {
  const known = [...pool];
  if (!known.length || r() < 0.15) return junk(r);
  return r() < 0.7 ? pick(r, known.slice(-6)) : pick(r, known);
}

// Lines where the program stops often: in square, worker, checked and the main loop.
const HOT_LINES = [9, 10, 15, 19, 21, 34, 35, 36];

const EXPRESSIONS = ['i', 'total', 'square(3)', 'out', 'undefined_name', '1/0', '[1, 2', 'sys.exit(4)', 'raise SystemExit(2)', '"x" * 10**6', 'sum(range(10**6))', 'threading.enumerate()', 'x = 1', '', 'lambda: 0', 'time.sleep(0.3)'];
const CONDITIONS = [undefined, 'i % 7 == 0', 'n > 3', 'nope_zz', '1/0', 'i ==', 'True', 'sum(range(10**5)) > 0', 'time.sleep(0.3)'];
const HITS = [undefined, '2', '>= 3', '% 5', 'zz', '% 0'];
const LOGS = [undefined, undefined, 'i={i}', '{1/0}', '{nope', 'plain text'];

/** One random request: a known command with arguments that are right, wrong or stale. */
function randomRequest(r: () => number, seen: Seen): [string, unknown] {
  const command = pick(r, [
    'threads', 'threads', 'threads', 'stackTrace', 'stackTrace', 'stackTrace', 'scopes', 'scopes', 'variables', 'variables', 'variables', 'variables',
    'evaluate', 'evaluate', 'evaluate', 'setVariable', 'completions', 'exceptionInfo', 'source', 'loadedSources', 'setBreakpoints', 'setBreakpoints',
    'setFunctionBreakpoints', 'setExceptionBreakpoints', 'pause', 'pause', 'continue', 'next', 'next', 'stepIn', 'stepOut', 'tasklens/taskTable',
    'configurationDone', 'launch', 'attach', 'initialize', 'fly', 'goto', 'stepBack',
  ]);
  if (r() < 0.08) return [command, junk(r)];
  const threadId = id(r, seen.threads);
  const frameId = id(r, seen.frames);
  const variablesReference = id(r, seen.refs);
  switch (command) {
    case 'stackTrace':
      return [command, { threadId, startFrame: r() < 0.7 ? 0 : junk(r), levels: r() < 0.7 ? 20 : junk(r) }];
    case 'scopes':
      return [command, { frameId }];
    case 'variables':
      return [command, { variablesReference, filter: pick(r, [undefined, 'indexed', 'named', 'bogus']), start: r() < 0.7 ? undefined : junk(r), count: r() < 0.7 ? undefined : junk(r) }];
    case 'evaluate':
      return [command, { expression: r() < 0.9 ? pick(r, EXPRESSIONS) : junk(r), frameId: r() < 0.2 ? undefined : frameId, context: pick(r, ['repl', 'watch', 'hover', 'clipboard', undefined, 5]) }];
    case 'setVariable': {
      // Only assignments that cannot change what the program prints: failing ones, or x = x.
      const names = seen.names.get(variablesReference as number) ?? ['i'];
      const name = pick(r, names);
      return [command, { variablesReference, name: r() < 0.9 ? name : junk(r), value: pick(r, ['undefined_zz', '1/0', 'nope(', name]) }];
    }
    case 'completions':
      return [command, { text: pick(r, ['sq', 'out.', 'sys.', '', 'x'.repeat(5000)]), column: r() < 0.7 ? 3 : junk(r), frameId }];
    case 'setBreakpoints': {
      const lines = Array.from({ length: Math.floor(r() * 4) }, () => (r() < 0.6 ? pick(r, HOT_LINES) : r() < 0.8 ? 1 + Math.floor(r() * LINES) : junk(r)));
      const breakpoints = lines.map((line) => ({ line, condition: pick(r, CONDITIONS), hitCondition: pick(r, HITS), logMessage: pick(r, LOGS) }));
      return [command, { source: { path: r() < 0.9 ? PROGRAM : junk(r) }, breakpoints: r() < 0.95 ? breakpoints : junk(r) }];
    }
    case 'setFunctionBreakpoints':
      return [command, { breakpoints: [{ name: pick(r, ['square', 'checked', 'nope', '', 'worker']) }].slice(0, Math.floor(r() * 2)) }];
    case 'setExceptionBreakpoints':
      return [command, { filters: [pick(r, ['raised', 'uncaught', 'taskUnhandled', 'bogus'])].slice(0, Math.floor(r() * 2)) }];
    case 'exceptionInfo':
    case 'pause':
    case 'continue':
    case 'next':
    case 'stepIn':
    case 'stepOut':
      return [command, { threadId }];
    case 'source':
      return [command, { sourceReference: junk(r), source: { path: PROGRAM } }];
    case 'launch':
      return [command, { program: PROGRAM }];
    default:
      return [command, {}];
  }
}

/** Remember the handles a response hands out. */
function learn(seen: Seen, command: string, response: Message): void {
  const body = response.body as Record<string, unknown> | undefined;
  if (!response.success || !body) return;
  if (command === 'threads') for (const t of body.threads as Array<{ id: number }>) seen.threads.add(t.id);
  if (command === 'stackTrace') for (const f of body.stackFrames as Array<{ id: number }>) seen.frames.add(f.id);
  if (command === 'scopes') for (const s of body.scopes as Array<{ variablesReference: number }>) seen.refs.add(s.variablesReference);
  if (command === 'variables') {
    const vars = body.variables as Array<{ name: string; variablesReference: number }>;
    for (const v of vars) if (v.variablesReference > 0) seen.refs.add(v.variablesReference);
  }
}

/** Sends up to `budget` random requests, fewer if the program ends first; returns how many. */
async function fuzz(client: FuzzClient, r: () => number, budget: number): Promise<number> {
  const seen = new Seen();
  let sent = 0;
  while (sent < budget && !client.events.some((e) => e.event === 'exited')) {
    // Bursts: a few requests in flight at once, as editors send them.
    const burst = 1 + Math.floor(r() * 4);
    const flights: Array<Promise<void>> = [];
    for (let k = 0; k < burst && sent < budget; k++, sent++) {
      const [command, args] = randomRequest(r, seen);
      flights.push(client.request(command, args).then((response) => learn(seen, command, response)));
    }
    await Promise.all(flights);
    assert.ok(client.alive, `the adapter died: ${client.lastWords}`);
  }
  return sent;
}

/** Clears breakpoints and continues until the program has ended; returns its exit code. */
async function runToEnd(client: FuzzClient): Promise<number> {
  await client.request('setBreakpoints', { source: { path: PROGRAM }, breakpoints: [] });
  await client.request('setFunctionBreakpoints', { breakpoints: [] });
  await client.request('setExceptionBreakpoints', { filters: [] });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const exited = client.events.find((e) => e.event === 'exited');
    if (exited) return (exited.body as { exitCode: number }).exitCode;
    await client.request('continue', { threadId: 1 });
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the program did not end within 60 s of the last continue');
}

/** Every request answered exactly once; returns how many of each command succeeded. */
function checkAnswers(client: FuzzClient, seed: number): string {
  const succeeded = new Map<string, number>();
  for (let seq = 1; seq <= client.sent(); seq++) {
    const answers = client.answers.get(seq) ?? [];
    assert.equal(answers.length, 1, `request #${seq} got ${answers.length} answers (seed ${seed})`);
    const [answer] = answers;
    if (!answer.success) assert.ok(typeof answer.message === 'string' && answer.message.length > 5, `#${seq}: ${JSON.stringify(answer)}`);
    if (!answer.success && process.env.TASKLENS_FUZZ_VERBOSE) console.log(answer.command, String(answer.message).slice(0, 100));
    else succeeded.set(answer.command as string, (succeeded.get(answer.command as string) ?? 0) + 1);
  }
  const stops = client.events.filter((e) => e.event === 'stopped').length;
  return `${client.sent()} requests, ${stops} stops, succeeded: ${JSON.stringify(Object.fromEntries(succeeded))}`;
}

function plainRun(py: Python): { stdout: string; status: number | null } {
  const run = spawnSync(py.path, [PROGRAM], { encoding: 'utf8' });
  return { stdout: run.stdout, status: run.status };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitForListener(port: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await listDiscoveryRecords()).some((record) => record.port === port)) {
    if (Date.now() > deadline) throw new Error(`no agent listening on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

let runIndex = 0;

eachPython('DAP fuzzer', (py) => {
  it('launch: random requests are each answered once; the program then ends as it would alone', async () => {
    const seed = BASE_SEED + runIndex++;
    console.log(`[${py.label}] launch fuzz seed ${seed} (this run: TASKLENS_FUZZ_SEED=${BASE_SEED})`);
    const r = rng(seed);
    const expected = plainRun(py);
    // Rounds: a program that ends early is launched again until the requests are spent.
    for (let left = REQUESTS, round = 1; left > 0; round++) {
      const client = new FuzzClient();
      try {
        await client.request('initialize', { adapterID: 'fuzz', linesStartAt1: true });
        const launched = await client.request('launch', { program: PROGRAM, python: py.path, evaluateTimeout: 1 });
        assert.ok(launched.success, String(launched.message));
        await client.waitEvent('initialized', 0);
        await client.request('setBreakpoints', { source: { path: PROGRAM }, breakpoints: [{ line: 10 }, { line: 38 }] });
        await client.request('configurationDone', {});
        left -= await fuzz(client, r, left);
        const code = await runToEnd(client);
        assert.equal(code, expected.status, `exit code (seed ${seed}, round ${round})`);
        await client.waitEvent('terminated', 0);
        assert.equal(client.stdout(), expected.stdout, `program output (seed ${seed}, round ${round})`);
        assert.ok((await client.request('disconnect', {})).success);
        console.log(`[${py.label}] round ${round}: ${checkAnswers(client, seed)}`);
      } finally {
        client.kill();
      }
    }
  });

  it('attach: after random requests, a disconnect leaves the program running to its own end', async () => {
    const seed = BASE_SEED + runIndex++;
    console.log(`[${py.label}] attach fuzz seed ${seed} (this run: TASKLENS_FUZZ_SEED=${BASE_SEED})`);
    const expected = plainRun(py);
    const port = await freePort();
    const run = spawn(process.execPath, [MAIN_JS, 'run', '--listen', `127.0.0.1:${port}`, '--python', py.path, PROGRAM], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    run.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => run.once('exit', (code) => resolve(code)));
    const client = new FuzzClient();
    try {
      await waitForListener(port);
      await client.request('initialize', { adapterID: 'fuzz' });
      const attached = await client.request('attach', { connect: { host: '127.0.0.1', port }, evaluateTimeout: 1 });
      assert.ok(attached.success, String(attached.message));
      await client.waitEvent('initialized', 0);
      await client.request('setBreakpoints', { source: { path: PROGRAM }, breakpoints: [{ line: 10 }, { line: 38 }] });
      await client.request('configurationDone', {});
      await fuzz(client, rng(seed), REQUESTS);
      assert.ok((await client.request('disconnect', {})).success);
      console.log(`[${py.label}] ${checkAnswers(client, seed)}`);
      assert.equal(await exited, expected.status, `the program ran to its own end (seed ${seed})`);
      assert.equal(stdout, expected.stdout, `program output (seed ${seed})`);
    } finally {
      client.kill();
      killGroup(run);
    }
  });
});
