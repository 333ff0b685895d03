import { ProcError, ProcErrorCode } from '../procmem/errors';
import { Snapshot } from './model';
import type { InspectOptions } from './options';
import { psReport, psWrite, pstreeReport, pstreeText } from './report';
import { programBehind } from './runWrapper';
import { agentNote, chooseSnapshot, NoAgent } from './sourceChoice';

// What `tasklens ps` and `pstree` do once their arguments are parsed. Kept apart from the
// command-line declarations so that `tasklens` loads it only when one of them runs.


const EXIT: Record<ProcErrorCode, number> = {
  'no-such-process': 3,
  'permission-denied': 4,
  'not-python': 5,
  'unsupported-python': 6,
  'free-threaded': 6,
  'no-asyncio': 5,
  'bad-layout': 7,
  'read-failed': 7,
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
    if (err instanceof ProcError || err instanceof NoAgent) {
      process.stderr.write(`tasklens: ${err.message}\n`);
      process.exit(err instanceof ProcError ? EXIT[err.code] : EXIT_NO_AGENT);
    }
    throw err;
  }
}

/** Warnings go to stderr with the text output; a JSON document carries its own. */
function warn(s: Snapshot): void {
  for (const w of s.warnings) process.stderr.write(`tasklens: warning: ${w}\n`);
}

// `tasklens ps PID | head`: once the reader is gone, stop quietly rather than with a stack trace.
function quietWhenReaderLeaves(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

export async function ps(pid: number, o: InspectOptions): Promise<void> {
  quietWhenReaderLeaves();
  const snap = await takeSnapshot(pid, o);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(psReport(snap), null, 2)}\n`);
  } else {
    warn(snap);
    psWrite(snap, (chunk) => process.stdout.write(chunk), o.width);
  }
}

export async function pstree(pid: number, o: InspectOptions): Promise<void> {
  quietWhenReaderLeaves();
  const snap = await takeSnapshot(pid, o);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(pstreeReport(snap), null, 2)}\n`);
  } else {
    warn(snap);
    process.stdout.write(pstreeText(snap));
  }
}
