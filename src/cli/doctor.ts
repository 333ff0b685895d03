// `tasklens doctor`: one screen that says what will work on this machine, and what to do where
// something will not, before a user finds out in the middle of a debugging session.
import type { Command } from 'commander';
import { EXIT } from './failure';

interface DoctorOptions {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check this machine: Node.js, the Pythons on PATH, ptrace permissions, gdb, the runtime directory')
    .option('--json', 'print a JSON document: {schema, ok, checks: [{id, ok, required, summary, fix?, details?, data?}]}')
    .addHelpText('after', '\nExit status 0 when tasklens can debug here (Node.js, at least one CPython 3.11+ and a private\n' +
      'runtime directory); 1 otherwise. The other checks say which features are limited, and how to fix it.')
    .action(async (options: DoctorOptions) => {
      const { runDoctor } = await import('./doctorRun.js');
      process.exitCode = (await runDoctor(options.json === true)) ? EXIT.ok : EXIT.failed;
    });
}
