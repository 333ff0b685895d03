// `tasklens trace PID`: write now the trace of a program run with `tasklens run --trace FILE`
// (docs/trace.md); the program runs on and keeps recording. With `--for S`: record S seconds
// of a program that records none (started under `tasklens run` without --trace, or by plain
// python, which gets the agent loaded for the window as `top` loads it), then write the file.
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { positive, positiveInt } from './argValues';
import { CliError, EXIT } from './failure';

const MAX_WINDOW_S = 3600;

interface TraceOptions {
  json?: boolean;
  for?: number;
  out?: string;
}

export function register(program: Command): void {
  program
    .command('trace')
    .description('write the asyncio timeline of a program run with `tasklens run --trace FILE` now, without stopping it; with --for S, record S seconds of any asyncio program')
    .argument('<pid>', 'process id of the program (or of its `tasklens run`)', positiveInt)
    .option('--for <seconds>', `record this long, from now, a program that records no trace (at most ${MAX_WINDOW_S})`, window)
    .option('--out <file>', 'with --for: the file to write (.json, or .json.gz compressed); default tasklens-trace-PID.json here')
    .option('--json', 'print {path, events, bytes} as JSON')
    .addHelpText('after', '\nA program started without tasklens gets the agent loaded for --for\'s window (as `tasklens attach`\n'
      + 'does) and taken out after; the file is written by the program, so its user must be able to write there.\n'
      + 'Exit status: 1 the program records no trace (without --for), records one already (with --for), or the\n'
      + 'file cannot be written; 2 bad usage; 3 no such process; 8 no tasklens agent reachable (or loadable).')
    .action(async (pid: number, o: TraceOptions) => {
      if (o.out !== undefined && o.for === undefined) throw new CliError('--out goes with --for (a recording started with the program writes to its --trace file)', EXIT.usage, 'usage');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { connectTop } = require('../top/client') as typeof import('../top/client');
      const c = await connectTop(pid, o.for !== undefined ? 'the recording' : false);
      try {
        const file = path.resolve(o.out ?? `tasklens-trace-${c.pid}.json`);
        if (o.for !== undefined && !o.json) process.stderr.write(`tasklens: recording process ${c.pid} for ${o.for} s into ${file}\n`);
        const written = o.for !== undefined ? c.record(file, o.for) : c.request<{ path: string; events: number; bytes: number }>('traceDump');
        const r = await written.catch((err: Error) => {
          throw new CliError(err.message);
        });
        process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${r.path}: ${r.events} events, ${r.bytes} bytes\n`);
      } finally {
        await c.close();
      }
    });
}

function window(v: string): number {
  const s = positive(v);
  if (s > MAX_WINDOW_S) throw new InvalidArgumentError(`at most ${MAX_WINDOW_S} seconds`);
  return s;
}
