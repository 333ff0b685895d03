// `tasklens dump PID`: every thread of a running Python process, its stack, what it waits in,
// and the tasks of its event loop, read from memory without running code in the process.
import { Command } from 'commander';
import { positiveInt } from './argValues';
import { DEFAULT_MAX_FRAMES, DEFAULT_MAX_TASKS } from '../procmem/limits';

interface DumpOptions {
  json?: boolean;
  locals?: boolean;
  maxTasks: number;
  maxFrames: number;
}

async function run(pid: number, o: DumpOptions): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { openMemory } = require('../inspect/memorySource') as typeof import('../inspect/memorySource');
  const { readDump } = require('../procmem/dump') as typeof import('../procmem/dump');
  const { dumpReport, dumpText } = require('../inspect/dumpReport') as typeof import('../inspect/dumpReport');
  const { ProcError } = require('../procmem/errors') as typeof import('../procmem/errors');
  const { EXIT } = require('../inspect/command') as typeof import('../inspect/command');
  /* eslint-enable @typescript-eslint/no-require-imports */
  let text: string;
  try {
    const open = openMemory(pid, { maxTasks: o.maxTasks, maxFrames: o.maxFrames });
    try {
      const d = readDump(open.target, open.limits, { locals: !!o.locals });
      if (o.json) text = `${JSON.stringify(dumpReport(d), null, 2)}\n`;
      else {
        for (const w of dumpReport(d).warnings) process.stderr.write(`tasklens: warning: ${w}\n`);
        text = dumpText(d);
      }
    } finally {
      open.close();
    }
  } catch (err) {
    if (err instanceof ProcError) {
      process.stderr.write(`tasklens: ${err.message}\n`);
      process.exit(EXIT[err.code]);
    }
    throw err;
  }
  process.stdout.write(text);
}

export function register(program: Command): void {
  program
    .command('dump')
    .description('print every thread of a running Python process: its stack, what it waits in, its event loop and tasks')
    .argument('<pid>', 'process id of a running Python program', positiveInt)
    .option('--json', 'print a JSON document (schema in docs/ps.md)')
    .option('--locals', 'show the simple local variables of every frame (numbers, short strings; type names otherwise)')
    .option('--max-tasks <n>', 'stop after this many tasks', positiveInt, DEFAULT_MAX_TASKS)
    .option('--max-frames <n>', 'frames to follow per thread and per task', positiveInt, DEFAULT_MAX_FRAMES)
    .action((pid: number, o: DumpOptions) => run(pid, o));
}
