// A `--trace` file opened in a real viewer: speedscope (the npm registry's package, its web
// app as released) in Debian's chromium, as a user opens it. trace.test.ts checks the file
// against the event format; this checks that a viewer reads it: speedscope imports it as a
// trace event file without an error or a warning, and lists the program's tracks, one per
// loop thread, per task and for the blocked loop, named as the file names them and as long as
// the steps on them.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { eachPythonAndLoop } from './async_support';
import { BIN, killAll, privateRuntime, run } from './run_support';
import { TEST_TIMEOUT_MS } from './support/matrix';
import { fixture, ROOT } from './support/paths';
import { CHROMIUM } from './vscode/codeServer';

const SPEEDSCOPE = path.join(ROOT, 'node_modules', 'speedscope', 'dist', 'release');
const missing = !fs.existsSync(CHROMIUM) ? `chromium is not installed (${CHROMIUM}); run bash scripts/install-vscode.sh`
  : !fs.existsSync(path.join(SPEEDSCOPE, 'index.html')) ? 'speedscope is not installed (npm ci)' : undefined;

const rt = privateRuntime();
const dir = fs.mkdtempSync(path.join(rt.env.XDG_RUNTIME_DIR!, 'viewer-'));
let browser: Browser | undefined;
let server: http.Server | undefined;
let base = '';

before(async () => {
  if (missing) return;
  // speedscope's app and the trace files, from one loopback origin (a page opened from a file
  // may not fetch another file)
  server = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').split(/[?#]/)[0]).replace(/^\/+/, '');
    const file = name.startsWith('traces/') ? path.join(dir, path.basename(name)) : path.join(SPEEDSCOPE, path.basename(name) || 'index.html');
    fs.readFile(file, (err, data) => {
      res.writeHead(err ? 404 : 200);
      res.end(err ? undefined : data);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
});

after(async () => {
  await browser?.close();
  server?.close();
  killAll();
  rt.remove();
});

interface Track { name: string; ms: number }

/** What speedscope shows of `file`: its import's console lines and the list of its profiles. */
async function openInSpeedscope(file: string): Promise<{ console: string[]; errors: string[]; tracks: Track[] }> {
  const page = await browser!.newPage();
  const lines: string[] = [];
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (/GL Driver Message|WebGL/.test(m.text())) return;   // the software renderer's own notes
    (m.type() === 'error' || m.type() === 'warning' ? errors : lines).push(m.text());
  });
  try {
    await page.goto(`${base}/index.html#profileURL=${encodeURIComponent(`${base}/traces/${path.basename(file)}`)}`);
    const count = page.getByText(/\(1\/\d+\)/);
    await count.waitFor({ timeout: 20_000 });
    await count.click();    // opens the list of profiles: number, name, total weight
    await page.getByText('Total Weight').waitFor({ timeout: 10_000 });
    const text = await page.evaluate(() => document.body.innerText);
    const tracks = [...text.matchAll(/^\d+\t(.+)\t([\d.]+)(µs|ms|s)$/gm)].map((m) => ({
      name: m[1], ms: Number(m[2]) * (m[3] === 'µs' ? 1e-3 : m[3] === 's' ? 1e3 : 1),
    }));
    return { console: lines, errors, tracks };
  } finally {
    await page.close();
  }
}

eachPythonAndLoop('a --trace file in speedscope', true, (py, loop) => {
  test('imports as a trace event file, with no error, and lists the loop thread, the tasks and the blocked loop', { timeout: TEST_TIMEOUT_MS, skip: missing ?? false }, async () => {
    const file = path.join(dir, `app-${py.version}-${loop.args.length}.json`);
    const r = await run(BIN, ['run', '--python', py.path, '--trace', file, fixture('trace_app.py'), ...loop.args], { env: rt.env });
    assert.equal(r.code, 0, r.stderr);
    const events = (JSON.parse(fs.readFileSync(file, 'utf8')) as { traceEvents: Array<{ ph: string; pid: number; tid: number }> }).traceEvents;
    const withSlices = new Set(events.filter((e) => e.ph === 'X').map((e) => `${e.pid}/${e.tid}`));

    const shown = await openInSpeedscope(file);
    assert.deepEqual(shown.errors, [], 'speedscope reports no error or warning');
    assert.ok(shown.console.includes('Importing as Trace Event Format profile'), shown.console.join('\n'));
    assert.equal(shown.tracks.length, withSlices.size, `a profile per track with slices: ${JSON.stringify(shown.tracks)}`);
    const track = (pattern: RegExp): Track => {
      const found = shown.tracks.find((t) => pattern.test(t.name));
      assert.ok(found, `${pattern} among ${shown.tracks.map((t) => t.name).join('; ')}`);
      return found;
    };
    track(/MainThread \(event loop\)/);
    for (const task of ['consumer', 'producer', 'holder', 'waiter']) track(new RegExp(`task ${task} `));
    assert.ok(track(/task blocker /).ms >= 200, 'the blocker\'s 200 ms step is on its track');
    assert.ok(track(/MainThread: blocked loop/).ms >= 200, 'and on the blocked loop\'s');
  });
});
