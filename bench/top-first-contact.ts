// How long `tasklens top --once` takes against a loop that never sleeps (docs/bench-top.md,
// "A loop that never sleeps"): N tasks hopping back to back through sleep(0) keep the GIL from
// the agent's threads but for the loop's select(0), the race agent/tasklens_agent/gil_share.py
// is there to win. Each try is what `top --once --interval 0.2` does, timed in this process
// (no node start-up): connect (the agent accepts, says hello, the handshake), a sample, 0.2 s,
// a second sample, disconnect. The anchor, side by side: the same tasks sleeping a second
// between steps (a loop that waits, the GIL free). A try that fails (the 10 s connect or the 15 s
// sample of src/top/client.ts) counts as failed. `--before DIR` (a tree of another revision:
// `git archive REV agent | tar -x -C DIR`) adds its agent as columns of the same run.
//
//   node dist/bench/top-first-contact.js [--tries N] [--tasks 20,200,2000] [--before DIR]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connectTop } from '../src/top/client';
import { matrix, median, option, pythonVersion, repoRoot } from './support';

const program = path.join(repoRoot, 'bench', 'programs', 'top_hot.py');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tasklens-top-contact-'));
process.env.XDG_RUNTIME_DIR = scratch;
const before = option('--before');

interface Tries { took: number[]; failed: number }

async function oneTop(pid: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  const c = await connectTop(pid, false);
  try {
    await c.sample({});
    await new Promise((r) => setTimeout(r, 200));
    await c.sample({ detail: 'all' });
  } finally {
    await c.close();
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function against(python: string, agentRoot: string, tasks: number, idle: boolean, tries: number): Promise<Tries> {
  const launcher = path.join(agentRoot, 'agent', 'launch.py');
  const child = spawn(python, [launcher, '--listen', '127.0.0.1:0', '--no-wait', '--', program, String(tasks), ...(idle ? ['--idle'] : [])],
    { stdio: ['ignore', 'ignore', 'ignore'], detached: true });
  const out: Tries = { took: [], failed: 0 };
  try {
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(path.join(scratch, 'tasklens', `${child.pid}.json`))) {
      if (Date.now() > deadline) throw new Error('the program never listened');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1000));     // its tasks run
    for (let i = 0; i < tries; i++) {
      try {
        out.took.push(await oneTop(child.pid!));
      } catch {
        out.failed++;
      }
    }
    return out;
  } finally {
    process.kill(-child.pid!, 'SIGKILL');
  }
}

function cell(t: Tries): string {
  if (!t.took.length) return `all ${t.failed} failed`;
  const failed = t.failed ? `, ${t.failed} failed` : '';
  return `${median(t.took).toFixed(2)} s (max ${Math.max(...t.took).toFixed(2)}${failed})`;
}

async function main(): Promise<void> {
  const tries = Number(option('--tries') ?? 10);
  const counts = (option('--tasks') ?? '20,200,2000').split(',').map(Number);
  const agents: [string, string][] = [['now', repoRoot], ...(before ? [['before', before] as [string, string]] : [])];
  console.log(`\`top --once\` against N tasks, median of ${tries} tries (max; tries that failed):\n`);
  console.log(`| Python | tasks | agent | hopping back to back | sleeping 1 s per step (anchor) |`);
  console.log('| --- | ---: | --- | ---: | ---: |');
  for (const python of matrix()) {
    for (const tasks of counts) {
      for (const [name, root] of agents) {
        const hot = await against(python, root, tasks, false, tries);
        const idle = await against(python, root, tasks, true, tries);
        console.log(`| ${pythonVersion(python)} | ${tasks} | ${name} | ${cell(hot)} | ${cell(idle)} |`);
      }
    }
  }
  fs.rmSync(scratch, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
