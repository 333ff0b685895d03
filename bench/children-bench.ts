// Child processes under the debugger (docs/bench-children.md), each figure beside its anchor,
// plain python, measured in the same run, turn about:
//  start — a program starts 10 Python children one after another (each prints the time and
//          ends); the median time from starting a child to its first line, and to its exit;
//          target ≤ 150 ms more than plain python per child, to the first line;
//  pool  — a ProcessPoolExecutor of 4 workers running 1,000 small jobs, worker start
//          included, timed by the program; target ≤ 1.2× plain python.
// Each runs: plain python; under `tasklens run` (children get the agent and a discovery file);
// launched in a debug session whose client opens a session for every child (DAP
// startDebugging) as VS Code does, connected to the child's `debugServer` (served by the
// parent's adapter); the same with a client that starts an adapter process per child; and with
// --against, the debug session of another build's dist/src/cli/main.js. `--one noSub`: one
// debug session with `subProcess: false` (the children undebugged: what their sessions cost).
//
//   node dist/bench/children-bench.js [--reps N] [--only start|pool] [--against MAIN_JS] [--one WAY]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SessionTree } from '../test/support/children';
import { Harness } from '../test/support/harness';
import type { Python } from '../test/support/pythons';
import { matrix, median, option, repoRoot } from './support';

const programs = {
  start: { file: path.join(repoRoot, 'bench', 'programs', 'children_start.py'), marker: /CHILD_MS ([\d.]+) ([\d.]+)/ },
  pool: { file: path.join(repoRoot, 'bench', 'programs', 'children_pool.py'), marker: /POOL_MS ([\d.]+)/ },
};
type Kind = keyof typeof programs;
const launcher = path.join(repoRoot, 'agent', 'launch.py');

/** The program's figures: [first line, exit] for start, [total] for pool. */
function figure(kind: Kind, text: string): number[] {
  const m = programs[kind].marker.exec(text);
  if (!m) throw new Error(`${kind}: no figure in ${JSON.stringify(text.slice(-500))}`);
  return m.slice(1).map(Number);
}

function plain(python: string, kind: Kind, underRun: boolean): number[] {
  const argv = underRun ? [launcher, '--', programs[kind].file] : [programs[kind].file];
  const out = spawnSync(python, argv, { encoding: 'utf8', timeout: 120_000 });
  if (out.status !== 0) throw new Error(`${kind} failed: ${out.stderr}`);
  return figure(kind, out.stdout);
}

/** How a debug session's client serves children: `served` connects to the child's
 *  `debugServer` (VS Code), `perChild` starts an adapter per child; `mainJs`: which build. */
interface Client {
  perChild: boolean;
  mainJs?: string;
  subProcess?: boolean;
}

async function debugged(python: string, kind: Kind, client: Client): Promise<number[]> {
  const adapter = { mainJs: client.mainJs };
  const tree = new SessionTree(async () => undefined, client.perChild, adapter);
  const h = await Harness.start(adapter);
  try {
    const since = h.mark();
    await tree.launch(h, { path: python, version: '', label: '' } satisfies Python, { program: programs[kind].file, console: 'internalConsole', ...(client.subProcess === false ? { subProcess: false } : {}) });
    await h.exitCode(since, 120_000);
    return figure(kind, h.output('stdout'));
  } finally {
    await tree.close();
    await h.close();
  }
}

function version(python: string): string {
  return spawnSync(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' }).stdout.trim();
}

type Way = 'bare' | 'run' | 'debug' | 'perChild' | 'against' | 'noSub';

async function main(): Promise<void> {
  // Measured as installed code runs: with the agent's bytecode cached (a first run writes it).
  delete process.env.PYTHONDONTWRITEBYTECODE;
  const reps = Number(option('--reps') ?? 3);
  const only = option('--only') as Kind | undefined;
  const against = option('--against');
  const kinds = (Object.keys(programs) as Kind[]).filter((k) => only === undefined || k === only);
  const ways: Way[] = ['bare', 'run', 'debug', 'perChild', ...(against ? ['against' as const] : [])];
  const run: Record<Way, (python: string, kind: Kind) => Promise<number[]>> = {
    bare: async (python, kind) => plain(python, kind, false),
    run: async (python, kind) => plain(python, kind, true),
    debug: (python, kind) => debugged(python, kind, { perChild: false }),
    perChild: (python, kind) => debugged(python, kind, { perChild: true }),
    against: (python, kind) => debugged(python, kind, { perChild: false, mainJs: against }),
    noSub: (python, kind) => debugged(python, kind, { perChild: false, subProcess: false }),
  };
  const one = option('--one') as Way | undefined;
  if (one !== undefined) {
    // One run of one way on the first interpreter, for bench/children-cpu.py, which counts the
    // CPU time of every process it started.
    console.log(`FIGURES ${JSON.stringify(await run[one](matrix()[0], only ?? 'pool'))}`);
    return;
  }
  console.log(`load average at the start: ${loadAverage()}`);
  console.log(`| Python | measure | plain python | tasklens run | debug session | same, an adapter per child |${against ? ' same, --against build |' : ''} debug session vs plain |`);
  console.log(`| --- | --- | ---: | ---: | ---: | ---: |${against ? ' ---: |' : ''} ---: |`);
  for (const python of matrix()) {
    plain(python, 'start', true);
    for (const kind of kinds) {
      const runs = Object.fromEntries(ways.map((w) => [w, [] as number[][]])) as Record<Way, number[][]>;
      for (let i = 0; i < reps; i++) {
        // Turn about: each way in turn, in an order that rotates, so that all see the same load.
        for (let j = 0; j < ways.length; j++) {
          const way = ways[(i + j) % ways.length];
          runs[way].push(await run[way](python, kind));
        }
      }
      const figures = kind === 'start' ? [0, 1] : [0];
      for (const f of figures) {
        const m = Object.fromEntries(ways.map((w) => [w, median(runs[w].map((x) => x[f]))])) as Record<Way, number>;
        const versus = (d: number) => (kind === 'start' ? `${d >= m.bare ? '+' : '−'}${Math.abs(d - m.bare).toFixed(0)} ms per child` : `${(d / m.bare).toFixed(2)}×`);
        const what = kind === 'start' ? `one child, start to ${f === 0 ? 'first line' : 'exit'} (median of 10)` : 'pool of 4, 1,000 jobs';
        const cells = ways.map((w) => `${m[w].toFixed(0)} ms${w === 'perChild' || w === 'against' ? ` (${versus(m[w])})` : ''}`);
        console.log(`| ${version(python)} | ${what} | ${cells.join(' | ')} | ${versus(m.debug)} |`);
      }
    }
  }
  console.log(`load average at the end: ${loadAverage()}`);
}

function loadAverage(): string {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

void main();
