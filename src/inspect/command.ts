import { ProcError, ProcErrorCode } from '../procmem/errors';
import { Snapshot } from './model';
import { CliError, EXIT as CLI_EXIT } from '../cli/failure';
import { MIN_WIDTH, type InspectOptions } from './options';
import { orderTasks } from './order';
import { psReport, psWrite, pstreeReport, pstreeText } from './report';
import { programBehind } from './runWrapper';
import { agentNote, chooseSnapshot, NoAgent } from './sourceChoice';

// What `tasklens ps`, `pstree` and `dump` do once their arguments are parsed. Kept apart from the
// command-line declarations so that `tasklens` loads it only when one of them runs.


export const EXIT: Record<ProcErrorCode, number> = {
  'no-such-process': CLI_EXIT.noProcess,
  'permission-denied': 4,
  'not-python': 5,
  'unsupported-python': 6,
  'free-threaded': 6,
  'no-asyncio': 5,
  'bad-layout': 7,
  'read-failed': 7,
  exited: 10,
};

/** `--source agent` with no agent to ask. */
const EXIT_NO_AGENT = 8;

async function takeSnapshot(asked: number, o: InspectOptions): Promise<Snapshot> {
  const pid = await programBehind(asked);
  try {
    const { snap, agentProblem } = await chooseSnapshot(pid, o);
    if (agentProblem !== null) {
      const note = `${agentNote(pid, agentProblem)}; read its memory instead`;
      process.stderr.write(`tasklens: ${note}\n`);
      // A JSON document carries its own warnings; the text output prints them to stderr.
      if (o.json) snap.warnings.push(note);
    }
    return snap;
  } catch (err) {
    if (err instanceof ProcError) throw new CliError(err.message, EXIT[err.code], err.code);
    if (err instanceof NoAgent) throw new CliError(err.message, EXIT_NO_AGENT, 'no-agent');
    throw err;
  }
}

/** `--width`, else `--wide`, else $COLUMNS, else the terminal's width; unlimited into a pipe or file. */
export function lineWidth(o: InspectOptions, env: NodeJS.ProcessEnv = process.env, out: { isTTY?: boolean; columns?: number } = process.stdout): number {
  if (o.width !== undefined) return o.width;
  if (o.wide) return Infinity;
  const columns = Number(env.COLUMNS);
  if (Number.isInteger(columns) && columns > 0) return Math.max(columns, MIN_WIDTH);
  if (out.isTTY) return Math.max(out.columns || 80, MIN_WIDTH);
  return Infinity;
}

/** Warnings go to stderr with the text output; a JSON document carries its own. */
function warn(s: Snapshot): void {
  for (const w of s.warnings) process.stderr.write(`tasklens: warning: ${w}\n`);
}

export async function ps(pid: number, o: InspectOptions): Promise<void> {
  const snap = orderTasks(await takeSnapshot(pid, o));
  if (o.json) {
    process.stdout.write(`${JSON.stringify(psReport(snap), null, 2)}\n`);
  } else {
    warn(snap);
    const width = lineWidth(o);
    const hidden = psWrite(snap, (chunk) => process.stdout.write(chunk), width);
    if (hidden.length > 0) {
      process.stderr.write(`tasklens: left out to fit ${width} columns: ${hidden.join(', ')} (--wide shows everything)\n`);
    }
  }
}

export async function pstree(pid: number, o: InspectOptions): Promise<void> {
  const snap = orderTasks(await takeSnapshot(pid, o));
  if (o.json) {
    process.stdout.write(`${JSON.stringify(pstreeReport(snap), null, 2)}\n`);
  } else {
    warn(snap);
    process.stdout.write(pstreeText(snap, lineWidth(o)));
  }
}

export async function dump(pid: number, o: InspectOptions): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { openMemory } = require('./memorySource') as typeof import('./memorySource');
  const { readDump } = require('../procmem/dump') as typeof import('../procmem/dump');
  const { dumpReport, dumpText } = require('./dumpReport') as typeof import('./dumpReport');
  const { programDump } = require('./agentFrames') as typeof import('./agentFrames');
  /* eslint-enable @typescript-eslint/no-require-imports */
  let text: string;
  try {
    const open = openMemory(pid, { maxTasks: o.maxTasks, maxFrames: o.maxFrames });
    try {
      const d = programDump(readDump(open.target, open.limits, { locals: !!o.locals }));
      if (o.json) text = `${JSON.stringify(dumpReport(d), null, 2)}\n`;
      else {
        for (const w of dumpReport(d).warnings) process.stderr.write(`tasklens: warning: ${w}\n`);
        text = dumpText(d);
      }
    } finally {
      open.close();
    }
  } catch (err) {
    if (err instanceof ProcError) throw new CliError(err.message, EXIT[err.code], err.code);
    throw err;
  }
  process.stdout.write(text);
}
