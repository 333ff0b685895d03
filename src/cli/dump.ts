// `tasklens dump PID`: every thread of a running Python process, its stack, what it waits in,
// and the tasks of its event loop, read from memory without running code in the process.
import { Command } from 'commander';
import { positiveInt } from './argValues';
import type { InspectOptions } from '../inspect/options';
import { DEFAULT_MAX_FRAMES, DEFAULT_MAX_TASKS } from '../procmem/limits';

export function register(program: Command): void {
  program
    .command('dump')
    .description('print every thread of a running Python process: its stack, what it waits in, its event loop and tasks')
    .argument('<pid>', 'process id of a running Python program', positiveInt)
    .option('--json', 'print a JSON document (schema in docs/ps.md)')
    .option('--locals', 'show the simple local variables of every frame (numbers, short strings; type names otherwise)')
    .option('--max-tasks <n>', 'stop after this many tasks', positiveInt, DEFAULT_MAX_TASKS)
    .option('--max-frames <n>', 'frames to follow per thread and per task', positiveInt, DEFAULT_MAX_FRAMES)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    .action((pid: number, o: InspectOptions) => (require('../inspect/command') as typeof import('../inspect/command')).dump(pid, o));
}
