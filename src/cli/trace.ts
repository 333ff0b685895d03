// `tasklens trace PID`: write now the trace of a program run with `tasklens run --trace FILE`
// (docs/trace.md); the program runs on and keeps recording.
import { Command } from 'commander';
import { positiveInt } from './argValues';
import { CliError } from './failure';

export function register(program: Command): void {
  program
    .command('trace')
    .description('write the asyncio timeline of a program run with `tasklens run --trace FILE` now, without stopping it')
    .argument('<pid>', 'process id of the program (or of its `tasklens run`)', positiveInt)
    .option('--json', 'print {path, events, bytes} as JSON')
    .addHelpText('after', '\nExit status: 1 the program records no trace or the file cannot be written; 3 no such process;\n8 no tasklens agent in it.')
    .action(async (pid: number, o: { json?: boolean }) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { connectTop } = require('../top/client') as typeof import('../top/client');
      const c = await connectTop(pid, false);
      try {
        const r = await c.request<{ path: string; events: number; bytes: number }>('traceDump').catch((err: Error) => {
          throw new CliError(err.message);
        });
        process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${r.path}: ${r.events} events, ${r.bytes} bytes\n`);
      } finally {
        await c.close();
      }
    });
}
