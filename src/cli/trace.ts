// `tasklens trace PID`: write now the trace of a program run with `tasklens run --trace FILE`
// (docs/trace.md); the program runs on and keeps recording. With `--for S`: record S seconds
// of a program that records none (started under `tasklens run` without --trace, or by plain
// python, which gets the agent loaded for the window as `top` loads it), then write the file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { positive, positiveInt } from './argValues';
import { CliError, EXIT } from './failure';
import { checkOutFile } from './outFile';
import type { TopConnection } from '../top/client';

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
      + 'file cannot be written; 2 bad usage (an --out in a missing or unwritable folder, or a folder, is refused\n'
      + 'before the window); 3 no such process; 8 no tasklens agent reachable (or loadable).')
    .action(async (pid: number, o: TraceOptions) => {
      if (o.out !== undefined && o.for === undefined) throw new CliError('--out goes with --for (a recording started with the program writes to its --trace file)', EXIT.usage, 'usage');
      // Checked before the window, not after it: the default name is in this folder.
      const out = o.for === undefined ? undefined : checkOutFile(o.out ?? `tasklens-trace-${pid}.json`);
      if (out?.problem !== undefined) throw new CliError(`--out ${o.out ?? `tasklens-trace-${pid}.json (the default)`}: ${out.problem}`, EXIT.usage, 'usage');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { connectTop } = require('../top/client') as typeof import('../top/client');
      const c = await connectTop(pid, o.for !== undefined ? 'the recording' : false);
      try {
        if (o.for === undefined) {
          const r = await c.request<Written>('traceDump').catch((err: Error) => {
            throw new CliError(err.message);
          });
          process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${r.path}: ${r.events} events, ${r.bytes} bytes\n`);
          return;
        }
        const file = path.resolve(o.out ?? `tasklens-trace-${c.pid}.json`);
        const existed = fs.existsSync(file);
        // Ctrl-C ends the window there, and the file holds what it recorded; a second one, at once.
        const stop = (): void => {
          process.stderr.write('tasklens: stopping the recording now; writing what it holds (Ctrl-C again to leave at once)\n');
          process.once('SIGINT', () => process.exit(130));
          c.stopRecording();
        };
        process.once('SIGINT', stop);
        // Said once the agent has begun the window: a refusal is the only line then.
        const started = (): void => {
          if (!o.json) process.stderr.write(`tasklens: recording process ${c.pid} for ${o.for} s into ${file}\n`);
        };
        const r = await c.record(file, o.for, started).catch(async (err: Error) => endedMeanwhile(c, file, existed, err))
          .finally(() => process.removeListener('SIGINT', stop));
        if ('stoppedEarly' in r && r.stoppedEarly) process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${r.path}: ${r.events} events, ${r.bytes} bytes (stopped after ${r.seconds} s)\n`);
        else if ('ended' in r) process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${r.path}: written as the program ended, ${r.bytes} bytes\n`);
        else process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${r.path}: ${r.events} events, ${r.bytes} bytes\n`);
      } finally {
        await c.close();
      }
    });
}

type Written = { path: string; events: number; bytes: number };

/**
 * The window's answer failed: a program that ended during it wrote what it recorded as it
 * exited (its file complete before its connection closed); one killed wrote nothing, and the
 * empty file the agent made to check the path goes.
 */
async function endedMeanwhile(c: TopConnection, file: string, existed: boolean, err: Error): Promise<{ path: string; bytes: number; ended: true }> {
  const gone = await Promise.race([c.closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500))]);
  if (!gone) throw new CliError(err.message);
  const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
  if (size > 0) return { path: file, bytes: size, ended: true };
  if (!existed) fs.rmSync(file, { force: true });
  throw new CliError(`process ${c.pid} ended during the recording without writing it (killed, or it left through os._exit)`);
}

function window(v: string): number {
  const s = positive(v);
  if (s > MAX_WINDOW_S) throw new InvalidArgumentError(`at most ${MAX_WINDOW_S} seconds`);
  return s;
}
