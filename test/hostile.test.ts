// Hostile programs (issue 14): unfriendly objects in the variables view, user code that hangs in
// the console or in a breakpoint condition, and the console's sys.exit: every request gets an
// answer, the session still steps, and the program ends with its own status.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter, type Harness } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';
import type { Python } from './support/pythons';

const HOSTILE = fixture('hostile_values.py');
const INSPECT_LINE = lineOf('inspect-here');
const CONDITION_LINE = lineOf('condition-line');
// The evaluation limit in these tests: short, so that a run waits less for the cut.
const LIMIT_S = 1;

function lineOf(marker: string): number {
  return fs.readFileSync(HOSTILE, 'utf8').split('\n').findIndex((text) => text.trimEnd().endsWith(`# ${marker}`)) + 1;
}

interface Answer<T> {
  ok: boolean;
  body?: T;
  message: string;
  ms: number;
}

/** A request's outcome, failure included, and how long the answer took (reported, not asserted). */
async function answer<T>(slowest: Map<string, number>, what: string, request: Promise<{ body?: T }>): Promise<Answer<T>> {
  const start = Date.now();
  try {
    const response = await request;
    return { ok: true, body: response.body, message: '', ms: note(slowest, what, start) };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err), ms: note(slowest, what, start) };
  }
}

function note(slowest: Map<string, number>, what: string, start: number): number {
  const ms = Date.now() - start;
  slowest.set(what, Math.max(ms, slowest.get(what) ?? 0));
  return ms;
}

async function stopAtInspect(h: Harness, py: Python, sleep: number): Promise<{ threadId: number; frameId: number }> {
  const stop = await h.launchToStop(py, HOSTILE, [INSPECT_LINE], { args: ['main', String(sleep)], evaluateTimeout: LIMIT_S });
  const top = await h.topFrame(stop.body.threadId);
  assert.equal(top.line, INSPECT_LINE);
  return { threadId: stop.body.threadId, frameId: top.id };
}

async function variables(h: Harness, ref: number): Promise<Map<string, DebugProtocol.Variable>> {
  const response = await h.dc.variablesRequest({ variablesReference: ref });
  return new Map(response.body.variables.map((v) => [v.name, v]));
}

test('evaluateTimeout must be a number of seconds', async () => {
  await withAdapter(async (h) => {
    await h.dc.initializeRequest();
    for (const evaluateTimeout of ['2', 0, -1, 1e9]) {
      await assert.rejects(h.dc.launchRequest({ program: HOSTILE, evaluateTimeout } as DebugProtocol.LaunchRequestArguments), /"evaluateTimeout" must be a number/);
    }
  });
});

eachPython('hostile programs', (py) => {
  it('lists every local of a scope full of hostile objects, each shown as itself', async () => {
    await withAdapter(async (h) => {
      const slowest = new Map<string, number>();
      const { threadId, frameId } = await stopAtInspect(h, py, 3);
      const locals = await answer(slowest, 'locals', h.locals(frameId).then((body) => ({ body })));
      assert.ok(locals.ok, locals.message);
      const v = locals.body!;
      assert.deepEqual([...v.keys()].sort(), ['bad_attrs', 'bad_dict', 'bad_dir', 'bad_key_dict', 'bad_len', 'half', 'huge', 'loud', 'nested', 'plain', 'sleep_repr', 'slow', 'slow_class', 'spin_repr', 'text', 'weird']);
      assert.equal(v.get('plain')?.value, '42');
      assert.match(v.get('bad_attrs')?.value ?? '', /^<__main__\.BadAttrs object at 0x/);
      assert.equal(v.get('bad_len')?.value, '[1, 2, 3]');
      assert.equal(v.get('bad_key_dict')?.value, "{BadKey(): 'value', 'ok': 1}");
      assert.match(v.get('spin_repr')?.value ?? '', /^<SpinRepr object: repr timed out after/);
      assert.match(v.get('half')?.value ?? '', /^<HalfBuilt object: repr (failed: AttributeError|skipped)/);
      assert.match(v.get('text')?.value ?? '', /… \(100,000 characters\)$/);
      assert.equal(v.get('weird')?.type, '__main__.Weird');
      const nested = await variables(h, v.get('nested')!.variablesReference);
      assert.equal(nested.size, 4);
      const scopes = await h.dc.scopesRequest({ frameId });
      const globals = await variables(h, scopes.body.scopes[1].variablesReference);
      assert.equal(globals.get('BadKey()')?.value, "'a global with a hostile key'");
      // Hovering each of them answers too, and the session then steps as usual.
      for (const name of v.keys()) {
        const hover = await answer(slowest, 'hover', h.dc.evaluateRequest({ expression: name, frameId, context: 'hover' }));
        assert.ok(hover.ok, `${name}: ${hover.message}`);
      }
      const since = h.mark();
      await h.dc.nextRequest({ threadId });
      await h.waitStopped(since);
      await h.dc.continueRequest({ threadId });
      assert.equal(await h.exitCode(since), 7);
      assert.equal(h.output('stdout'), 'inspected\n');
      console.log(`[${py.label}] slowest answers (ms): ${JSON.stringify(Object.fromEntries(slowest))}`);
    });
  });

  it('cuts console code at the limit, answers the rest meanwhile, and prints a late result', async () => {
    await withAdapter(async (h) => {
      const slowest = new Map<string, number>();
      const { threadId, frameId } = await stopAtInspect(h, py, 4);
      const spin = await answer(slowest, 'evaluate spin()', h.dc.evaluateRequest({ expression: 'spin()', frameId, context: 'repl' }));
      assert.equal(spin.ok, false);
      assert.match(spin.message, new RegExp(`still running after ${LIMIT_S} s; interrupted`));
      const big = await answer(slowest, 'evaluate 10**10 loop', h.dc.evaluateRequest({ expression: 'sum(1 for _ in range(10**10))', frameId, context: 'watch' }));
      assert.match(big.message, /interrupted/);
      // Stuck in native code (time.sleep in a property): answered now, the result comes later.
      const slow = await answer(slowest, 'evaluate slow.value', h.dc.evaluateRequest({ expression: 'slow.value', frameId, context: 'repl' }));
      assert.equal(slow.ok, false);
      assert.match(slow.message, /printed to the console when it finishes/);
      const threads = await answer(slowest, 'threads', h.dc.threadsRequest());
      assert.ok(threads.ok, threads.message);
      const stack = await answer(slowest, 'stackTrace', h.dc.stackTraceRequest({ threadId }));
      assert.ok(stack.ok, stack.message);
      const busyLocals = await answer(slowest, 'locals', h.locals(frameId).then((body) => ({ body })));
      assert.ok(busyLocals.ok && busyLocals.body!.has('plain'), busyLocals.message);
      const refused = await answer(slowest, 'evaluate while busy', h.dc.evaluateRequest({ expression: 'plain', frameId, context: 'repl' }));
      assert.match(refused.message, /still running `slow\.value`/);
      const step = await answer(slowest, 'next while busy', h.dc.nextRequest({ threadId }));
      assert.match(step.message, /cannot step/);
      await h.waitForOutput('console', /`slow\.value` \(evaluate\) finished after [\d.]+ s: 'slept'/);
      const after = await answer(slowest, 'evaluate after', h.dc.evaluateRequest({ expression: 'plain + 1', frameId, context: 'repl' }));
      assert.equal(after.body?.result, '43');
      const since = h.mark();
      await h.dc.nextRequest({ threadId });
      await h.waitStopped(since);
      await h.dc.continueRequest({ threadId });
      assert.equal(await h.exitCode(since), 7);
      assert.equal(h.output('stdout'), 'inspected\n');
      console.log(`[${py.label}] slowest answers (ms): ${JSON.stringify(Object.fromEntries(slowest))}`);
    });
  });

  it('shows SystemExit from the console as a result; the program keeps running', async () => {
    await withAdapter(async (h) => {
      const { threadId, frameId } = await stopAtInspect(h, py, 3);
      const exit = await h.dc.evaluateRequest({ expression: 'sys.exit(9)', frameId, context: 'repl' });
      assert.equal(exit.body.result, 'SystemExit(9) raised; the program keeps running');
      const statement = await h.dc.evaluateRequest({ expression: 'raise SystemExit("bye")', frameId, context: 'repl' });
      assert.equal(statement.body.result, "SystemExit('bye') raised; the program keeps running");
      const since = h.mark();
      await h.dc.continueRequest({ threadId });
      assert.equal(await h.exitCode(since), 7);
    });
  });

  it('cuts a hanging breakpoint condition once, stops there once, and lets the program run', async () => {
    for (const condition of ['spin()', 'time.sleep(1.5) or i == 3']) {
      await withAdapter(async (h) => {
        const since = h.mark();
        await h.launch(py, { program: HOSTILE, args: ['loop'], evaluateTimeout: LIMIT_S }, async () => {
          await h.dc.setBreakpointsRequest({ source: { path: HOSTILE }, breakpoints: [{ line: CONDITION_LINE, condition }] });
        });
        const stop = await h.waitStopped(since);
        assert.equal((await h.topFrame(stop.body.threadId)).line, CONDITION_LINE);
        await h.waitForOutput('important', new RegExp(`Breakpoint condition .* at .*hostile_values\\.py:${CONDITION_LINE} ran longer than 1 s`));
        const changed = await h.waitFor<DebugProtocol.BreakpointEvent>('breakpoint', since);
        assert.equal(changed.body.breakpoint.verified, false);
        await h.dc.continueRequest({ threadId: stop.body.threadId });
        assert.equal(await h.exitCode(since), 7, `condition ${condition}`);
        assert.equal(h.output('stdout'), 'loop done 10\n');
        assert.equal(h.history.filter((e) => e.event === 'stopped').length, 1, 'stopped once');
      });
    }
  });
});
