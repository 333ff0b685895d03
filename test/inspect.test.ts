// Looking at a stopped program: stack paging, variables paging, hostile objects, setVariable,
// evaluate, completions, sources.
import * as assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { withAdapter, type Harness } from './support/harness';
import { eachPython, it } from './support/matrix';
import { fixture } from './support/paths';

async function timed<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  const start = Date.now();
  const result = await work;
  assert.ok(Date.now() - start < ms, `${what} answered in ${Date.now() - start} ms (limit ${ms})`);
  return result;
}

async function stoppedInNasty(h: Harness, py: Parameters<Harness['launch']>[0]): Promise<{ frameId: number; locals: Map<string, DebugProtocol.Variable> }> {
  const stop = await h.launchToStop(py, fixture('nasty_values.py'), [24]);
  const top = await h.topFrame(stop.body.threadId);
  const locals = await timed('Locals of hostile objects', 6000, h.locals(top.id));
  return { frameId: top.id, locals };
}

eachPython('inspect', (py) => {
  it('pages a deep stack with startFrame/levels/totalFrames', async () => {
    await withAdapter(async (h) => {
      const stop = await h.launchToStop(py, fixture('deep_recursion.py'), [3]);
      const first = await h.dc.stackTraceRequest({ threadId: stop.body.threadId, startFrame: 0, levels: 10 });
      assert.equal(first.body.stackFrames.length, 10);
      assert.equal(first.body.totalFrames, 52);
      assert.ok(first.body.stackFrames.every((f) => f.name === 'recurse'));
      assert.equal(first.body.stackFrames[0].line, 3);
      assert.equal(first.body.stackFrames[1].line, 4);
      const last = await h.dc.stackTraceRequest({ threadId: stop.body.threadId, startFrame: 45, levels: 10 });
      assert.equal(last.body.stackFrames.length, 7);
      assert.equal(last.body.stackFrames[6].name, '<module>');
      const ids = new Set([...first.body.stackFrames, ...last.body.stackFrames].map((f) => f.id));
      assert.equal(ids.size, 17, 'frame ids are distinct');
    });
  });

  it('pages a 1,000,000-element list and answers hostile reprs within 2 s', async () => {
    await withAdapter(async (h) => {
      const { locals } = await stoppedInNasty(h, py);
      const big = locals.get('big');
      assert.ok(big, 'big is listed');
      assert.equal(big.indexedVariables, 1_000_000);
      const page = await timed('a page of big', 2000, h.dc.variablesRequest({ variablesReference: big.variablesReference, filter: 'indexed', start: 999_990, count: 10 }));
      assert.deepEqual(page.body.variables.map((v) => v.value), Array.from({ length: 10 }, (_, i) => String(999_990 + i)));
      assert.equal(page.body.variables[0].name, '999990');
      assert.match(locals.get('raises')?.value ?? '', /repr failed.*ValueError.*boom/);
      assert.match(locals.get('hangs')?.value ?? '', /timed out/);
      const huge = locals.get('huge')?.value ?? '';
      assert.ok(huge.length < 100_000 && huge.length > 10, `huge repr cut to ${huge.length} chars`);
      assert.match(huge, /… \(repr of 50,000,000 characters\)$/, 'a cut repr ends with an ellipsis and its full length');
      const selfref = locals.get('selfref');
      assert.ok(selfref && selfref.variablesReference > 0);
      const inner = await timed('self-referencing dict', 2000, h.dc.variablesRequest({ variablesReference: selfref.variablesReference }));
      const me = inner.body.variables.find((v) => v.name === "'me'" || v.name === 'me');
      assert.ok(me && me.variablesReference > 0, 'the self reference can be expanded again');
    });
  });

  it('evaluates hostile objects within 2 s and the session goes on', async () => {
    await withAdapter(async (h) => {
      const { frameId } = await stoppedInNasty(h, py);
      for (const expression of ['hangs', 'huge', 'raises', 'selfref']) {
        const res = await timed(`evaluate ${expression}`, 2500, h.dc.evaluateRequest({ expression, frameId, context: 'hover' }));
        assert.ok(res.body.result.length < 100_000);
      }
      const sum = await h.dc.evaluateRequest({ expression: 'len(big)', frameId, context: 'watch' });
      assert.equal(sum.body.result, '1000000');
    });
  });

  it('sets a variable and the program uses the new value', async () => {
    await withAdapter(async (h) => {
      const stop = await h.launchToStop(py, fixture('basic_add.py'), [5]);
      const top = await h.topFrame(stop.body.threadId);
      const scopes = await h.dc.scopesRequest({ frameId: top.id });
      const ref = scopes.body.scopes[0].variablesReference;
      const set = await h.dc.setVariableRequest({ variablesReference: ref, name: 'a', value: '40' });
      assert.equal(set.body.value, '40');
      const locals = await h.locals(top.id);
      assert.equal(locals.get('a')?.value, '40');
      const since = h.mark();
      await h.dc.continueRequest({ threadId: stop.body.threadId });
      assert.equal(await h.exitCode(since), 7);
      assert.equal(h.output('stdout'), 'sum 42\n');
    });
  });

  it('evaluates repl statements, hovers and reports errors', async () => {
    await withAdapter(async (h) => {
      const stop = await h.launchToStop(py, fixture('basic_add.py'), [5]);
      const top = await h.topFrame(stop.body.threadId);
      await h.dc.evaluateRequest({ expression: 'z = a * 100', frameId: top.id, context: 'repl' });
      assert.equal((await h.dc.evaluateRequest({ expression: 'z + b', frameId: top.id, context: 'repl' })).body.result, '102');
      assert.equal((await h.dc.evaluateRequest({ expression: 'b', frameId: top.id, context: 'hover' })).body.result, '2');
      const list = await h.dc.evaluateRequest({ expression: '[a, b, [3]]', frameId: top.id, context: 'watch' });
      assert.ok(list.body.variablesReference > 0);
      await assert.rejects(h.dc.evaluateRequest({ expression: 'no_such_name', frameId: top.id, context: 'watch' }), /NameError/);
      assert.equal((await h.dc.evaluateRequest({ expression: 'a', frameId: top.id, context: 'watch' })).body.result, '1');
    });
  });

  it('completes names in the REPL', async () => {
    await withAdapter(async (h) => {
      const stop = await h.launchToStop(py, fixture('basic_add.py'), [5]);
      const trace = await h.dc.stackTraceRequest({ threadId: stop.body.threadId });
      const mainFrame = trace.body.stackFrames[1].id;
      const names = await h.dc.completionsRequest({ text: 'lab', column: 4, frameId: mainFrame });
      assert.ok(names.body.targets.some((t) => t.label === 'label'), JSON.stringify(names.body.targets));
      const attrs = await h.dc.completionsRequest({ text: 'numbers.app', column: 12, frameId: mainFrame });
      assert.ok(attrs.body.targets.some((t) => t.label === 'append'), JSON.stringify(attrs.body.targets));
    });
  });

  it('lists loaded sources and serves source text', async () => {
    await withAdapter(async (h) => {
      const program = fixture('basic_add.py');
      await h.launchToStop(py, program, [5]);
      const loaded = (await h.dc.customRequest('loadedSources', {})) as DebugProtocol.LoadedSourcesResponse;
      assert.ok(loaded.body.sources.some((s) => s.path === program), 'the program is a loaded source');
      assert.ok(!loaded.body.sources.some((s) => /tasklens_agent/.test(s.path ?? '')), 'agent modules are hidden');
      const text = await h.dc.sourceRequest({ source: { path: program }, sourceReference: 0 });
      assert.match(text.body.content, /def add\(a, b\):/);
    });
  });
});
