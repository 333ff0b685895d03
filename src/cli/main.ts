// Entry point of the `tasklens` command: one sub-command per file, each exporting `register`.
import type { Command as CommandType, CommanderError } from 'commander';
import { quickInspectArgs } from '../inspect/options';
import { EXIT, EXIT_STATUS_HELP, fail, failOnEscape, jsonError } from './failure';

failOnEscape();

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
    (require('./attach') as typeof import('./attach')).register,
    (require('./run') as typeof import('./run')).register,
    (require('./ps') as typeof import('./ps')).register,
    (require('./pstree') as typeof import('./pstree')).register,
    (require('./top') as typeof import('./top')).register,
    (require('./trace') as typeof import('./trace')).register,
    (require('./dump') as typeof import('./dump')).register,
    (require('./demo') as typeof import('./demo')).register,
    (require('./doctor') as typeof import('./doctor')).register,
  ];
  /* eslint-enable @typescript-eslint/no-require-imports */
  const program = new Command();
  program
    .name('tasklens')
    .description('An async-aware debugger and inspector for Python programs')
    .version('0.1.0')
    // Set before the commands are added, which inherit them: commander prints its own one-line
    // message for a usage error, then throws here instead of exiting with its status 1.
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.startsWith('tasklens') ? text : `tasklens: ${text.replace(/^error: /, '')}`) })
    .showHelpAfterError('(see tasklens --help, or tasklens COMMAND --help)')
    .addHelpText('after', EXIT_STATUS_HELP)
    // `run` passes everything after the program to it, options included.
    .enablePositionalOptions();
  for (const register of commands) register(program);
  program.parseAsync(process.argv).catch((err: unknown) => {
    const e = err as Partial<CommanderError>;
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      if (e.exitCode === 0) process.exit(EXIT.ok);
      jsonError('usage', (e.message ?? '').replace(/^error: /, ''), EXIT.usage);
      process.exit(EXIT.usage);
    }
    fail(err);
  });
}
