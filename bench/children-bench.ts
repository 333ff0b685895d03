// Child processes under the debugger (docs/bench-children.md), each figure beside its anchor,
// plain python, measured in the same run, interleaved:
//  start — a program starts 10 Python children one after another (each prints the time and
//          ends); the median time from starting a child to its first line, and to its exit:
//          plain python, under `tasklens run`
//          (children get the agent and a discovery file), and launched in a debug session
//          whose client opens a session for every child (DAP startDebugging, as an editor:
//          a new adapter process per child, attach, configurationDone); target ≤ 150 ms more
//          than plain python per child, to the first line;
//  pool  — a ProcessPoolExecutor of 4 workers running 1,000 small jobs, worker start
//          included, timed by the program; same three ways; target ≤ 1.2× plain python.
//
//   node dist/bench/children-bench.js [--reps N] [--only start|pool]
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { SessionTree } from '../test/support/children';
import { Harness } from '../test/support/harness';
import type { Python } from '../test/support/pythons';
import { matrix, median, repoRoot } from './support';

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

async function debugged(python: string, kind: Kind): Promise<number[]> {
  const tree = new SessionTree(async () => undefined);
  const h = await Harness.start();
  try {
    const since = h.mark();
    await tree.launch(h, { path: python, version: '', label: '' } satisfies Python, { program: programs[kind].file, console: 'internalConsole' });
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

async function main(): Promise<void> {
  // Measured as installed code runs: with the agent's bytecode cached (a first run writes it).
  delete process.env.PYTHONDONTWRITEBYTECODE;
  const args = process.argv.slice(2);
  const reps = args.includes('--reps') ? Number(args[args.indexOf('--reps') + 1]) : 3;
  const only = args.includes('--only') ? (args[args.indexOf('--only') + 1] as Kind) : undefined;
  const kinds = (Object.keys(programs) as Kind[]).filter((k) => only === undefined || k === only);
  console.log('| Python | measure | plain python | tasklens run | debug session | debug session vs plain |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: |');
  for (const python of matrix()) {
    plain(python, 'start', true);
    for (const kind of kinds) {
      const runs: Record<'bare' | 'run' | 'debug', number[][]> = { bare: [], run: [], debug: [] };
      for (let i = 0; i < reps; i++) {
        runs.bare.push(plain(python, kind, false));
        runs.run.push(plain(python, kind, true));
        runs.debug.push(await debugged(python, kind));
      }
      const figures = kind === 'start' ? [0, 1] : [0];
      for (const f of figures) {
        const [b, r, d] = (['bare', 'run', 'debug'] as const).map((k) => median(runs[k].map((x) => x[f])));
        const versus = kind === 'start' ? `${d >= b ? '+' : '−'}${Math.abs(d - b).toFixed(0)} ms per child` : `${(d / b).toFixed(2)}×`;
        const what = kind === 'start' ? `one child, start to ${f === 0 ? 'first line' : 'exit'} (median of 10)` : 'pool of 4, 1,000 jobs';
        console.log(`| ${version(python)} | ${what} | ${b.toFixed(0)} ms | ${r.toFixed(0)} ms | ${d.toFixed(0)} ms | ${versus} |`);
      }
    }
  }
}

void main();
