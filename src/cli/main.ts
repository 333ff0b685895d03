// Entry point of the `tasklens` command: one sub-command per file, each exporting `register`.
import type { Command as CommandType } from 'commander';
import { quickInspectArgs } from '../inspect/options';

function fail(err: unknown): never {
  process.stderr.write(`tasklens: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}

// `ps PID` and `pstree PID` in their plain forms skip the command-line parser and every other
// command's module; whatever else is given goes through the full parser below.
const quick = quickInspectArgs(process.argv.slice(2));
if (quick) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const impl = require('../inspect/command') as typeof import('../inspect/command');
  impl[quick.command](quick.pid, quick.options).catch(fail);
} else {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { Command } = require('commander') as typeof import('commander');
  const commands: Array<(program: CommandType) => void> = [
    (require('./dap') as typeof import('./dap')).register,
    (require('./run') as typeof import('./run')).register,
    (require('./ps') as typeof import('./ps')).register,
    (require('./pstree') as typeof import('./pstree')).register,
    (require('./dump') as typeof import('./dump')).register,
    (require('./demo') as typeof import('./demo')).register,
  ];
  /* eslint-enable @typescript-eslint/no-require-imports */
  const program = new Command();
  program
    .name('tasklens')
    .description('An async-aware debugger and inspector for Python programs')
    .version('0.1.0')
    // `run` passes everything after the program to it, options included.
    .enablePositionalOptions();
  for (const register of commands) register(program);
  program.parseAsync(process.argv).catch(fail);
}
