import { Command, InvalidArgumentError, Option } from 'commander';
import { positiveInt } from './argValues';
import { DEFAULT_MAX_FRAMES, DEFAULT_MAX_TASKS, MIN_WIDTH, SOURCE_CHOICES, type InspectOptions } from '../inspect/options';

// `ps`, and what `pstree` shares with it: the PID argument and the read limits. The work itself
// is loaded only when one of them runs, so that every other command starts without it.

function lineWidth(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < MIN_WIDTH) throw new InvalidArgumentError(`expected a whole number of columns, ${MIN_WIDTH} or more`);
  return n;
}

export function inspectCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .argument('<pid>', 'process id of a running Python program', positiveInt)
    .option('--json', 'print a JSON document (schema in docs/ps.md)')
    .option('--max-tasks <n>', 'stop after this many tasks', positiveInt, DEFAULT_MAX_TASKS)
    .option('--max-frames <n>', 'coroutine frames to follow per task', positiveInt, DEFAULT_MAX_FRAMES)
    .addOption(new Option('--source <source>', 'ask the agent of a program run under `tasklens run`, read memory, or the agent when there is one')
      .choices(SOURCE_CHOICES).default('auto'))
    .option('--width <n>', 'fit each line in N columns (default: the terminal\'s width; unlimited when not a terminal)', lineWidth)
    .addOption(new Option('--wide', 'show everything, however long the lines').conflicts('width'))
    .addHelpText('after', '\nWhen lines are too long, paths are shortened from the left, coroutine stacks lose library\n' +
      'frames first, and ids and the awaiter\'s stack are left out before the task, its state and its\n' +
      'own frames. $COLUMNS, when set, is the width. Control characters in names are shown escaped.\n' +
      'With --json, a failure prints {"schema": 1, "error": {code, message, exitStatus}} on stdout too.');
}

export function inspectImpl(): typeof import('../inspect/command') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../inspect/command') as typeof import('../inspect/command');
}

export function register(program: Command): void {
  inspectCommand(program, 'ps', 'list the asyncio tasks of a running Python process: one row per task and awaiter')
    .action((pid: number, o: InspectOptions) => inspectImpl().ps(pid, o));
}
