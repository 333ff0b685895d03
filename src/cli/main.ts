// Entry point of the `tasklens` command: one sub-command per file, each exporting `register`.
import { Command } from 'commander';
import { register as registerDap } from './dap';
import { register as registerRun } from './run';
import { register as registerPs } from './ps';
import { register as registerPstree } from './pstree';
import { register as registerDemo } from './demo';

const program = new Command();
program
  .name('tasklens')
  .description('An async-aware debugger and inspector for Python programs')
  .version('0.1.0')
  // `run` passes everything after the program to it, options included.
  .enablePositionalOptions();

registerDap(program);
registerRun(program);
registerPs(program);
registerPstree(program);
registerDemo(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`tasklens: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
