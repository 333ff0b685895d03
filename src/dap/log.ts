// `--log FILE`: every DAP and agent message with a timestamp, one line each, so that a session
// can be replayed by reading it. Writes are queued on a stream; nothing here blocks the loop.
import * as fs from 'node:fs';

export interface LogSink {
  (channel: string, direction: 'in' | 'out' | 'note', message: unknown): void;
  /** The file written, when there is one: a launched agent writes its own log beside it. */
  readonly file?: string;
}

export interface Log {
  sink: LogSink;
  /** Resolves once everything logged so far is on disk. */
  close(): Promise<void>;
}

export const noLog: Log = { sink: () => undefined, close: () => Promise.resolve() };

export function fileLog(path: string): Log {
  const stream = fs.createWriteStream(path, { flags: 'a' });
  stream.on('error', (err) => process.stderr.write(`tasklens: cannot write log ${path}: ${err.message}\n`));
  const write = (channel: string, direction: 'in' | 'out' | 'note', message: unknown) => {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    const arrow = direction === 'in' ? '<-' : direction === 'out' ? '->' : '--';
    stream.write(`${new Date().toISOString()} ${channel} ${arrow} ${text}\n`);
  };
  return {
    sink: Object.assign(write, { file: path }),
    close: () => new Promise((resolve) => stream.end(() => resolve())),
  };
}
