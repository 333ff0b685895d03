// `tasklens top PID`: a live view of a program's asyncio tasks with per-task step timing
// (docs/top.md). The work is loaded only when the command runs.
import { Command, InvalidArgumentError } from 'commander';
import { positive, positiveInt } from './argValues';
import type { TopOptions } from '../top/live';
import { SORT_KEYS, type SortKey } from '../top/model';

/** A sort letter (`b`) or the column's name (`busy`); anything else is refused, not read as busy. */
function sortKey(v: string): SortKey {
  const key = SORT_KEYS[v] ?? Object.values(SORT_KEYS).find((k) => k === v);
  if (key === undefined) throw new InvalidArgumentError(`expected one of ${Object.entries(SORT_KEYS).map(([k, n]) => `${k} (${n})`).join(', ')}`);
  return key;
}

/** `--sample N`: 1 is every step, 1000 the sparsest the agent takes; `auto` (the default) is
 * every step until that costs the program more than 2 % of its time, then 1 in 64 or more
 * (and back to every step once that would cost under 0.5 %). */
function sampleRate(v: string): number | 'auto' {
  if (v === 'auto') return v;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('expected auto or a whole number from 1 to 1000');
  return n;
}

export function register(program: Command): void {
  program
    .command('top')
    .description('a live view of the asyncio tasks of a running Python program: time in steps, scheduling delay, polls, warnings')
    .argument('<pid>', 'process id of the program (or of its `tasklens run`)', positiveInt)
    .option('--once', 'take one sample over --interval and print it, instead of the live screen')
    .option('--json', 'with --once: print a JSON document (schema in docs/top.md)')
    .option('--interval <seconds>', 'time between refreshes (and the span --once measures)', positive, 1)
    .option('--sort <key>', 'first sort: n name, t state, b busy, s sched, i idle, p polls, w wakes, a age (the letter or the name)', sortKey, 'busy')
    .option('--filter <text>', 'only tasks whose name or coroutine contains text')
    .option('--slow-ms <N>', 'a step this long is a warning (never yields, blocked loop)', positive, 100)
    .option('--stuck-s <N>', 'a task waiting this long with nothing to wake it is a warning', positive, 10)
    .option('--sample <N>', 'time one task step in about N (1-1000): busy, sched, idle, polls and wakes become estimates, and the program pays far less (64 keeps a task-heavy program within 10 %); 1: every step, whatever it costs; auto (the default): every step until that costs the program more than 2 % of its time, then one in 64 or more, as needed to keep it under 0.5 %, and every step again once that would cost under 0.5 % (docs/top.md)', sampleRate, 'auto')
    .addHelpText('after', '\nKeys on the live screen: the sort letters, r reverse, / filter, arrows and Enter to see a task\n'
      + '(stack, await tree, step time histogram), Esc back, q quit. NO_COLOR turns colours off.\n'
      + 'The program pays for the counters only while a top is connected. A program not run under\n'
      + '`tasklens run` gets the agent loaded (as `tasklens attach` does) until top ends.\n'
      + 'Exit status: 2 bad usage or not a terminal (use --once); 3 no such process; 8 its agent cannot be reached or loaded.')
    .action(async (pid: number, o: TopOptions) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      await (require('../top/live') as typeof import('../top/live')).top(pid, o);
    });
}
