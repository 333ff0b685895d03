// Which source answers `ps` / `pstree`: the agent of a program run under `tasklens run` when it
// has one (it knows more: what a task waits on, where it was made, its age), else the process's
// memory.
import { ProcError } from '../procmem/errors';
import { locateAgent, removeStaleDiscoveryFiles } from '../agent/discovery';
import { memorySource, ReadLimits } from './memorySource';
import type { Snapshot, TaskSource } from './model';
import type { InspectOptions } from './options';

/** `--source agent` and the agent could not be asked. */
export class NoAgent extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoAgent';
  }
}

/**
 * The snapshot, and the reason the agent was not asked or did not answer when there was a
 * discovery file for the process but its memory was read instead (null otherwise).
 */
export async function chooseSnapshot(pid: number, o: InspectOptions): Promise<{ snap: Snapshot; agentProblem: string | null }> {
  const limits: ReadLimits = { maxTasks: o.maxTasks, maxFrames: o.maxFrames };
  const source = o.source ?? 'auto';
  let problem: string | null = null;
  // Agents killed without a chance to clean up leave their files behind; `ps` tidies them.
  removeStaleDiscoveryFiles();
  if (source !== 'memory') {
    const found = locateAgent(pid);
    if (found?.address) {
      // Loaded only now: most processes `ps` looks at have no agent.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const agent = require('./agentSource') as typeof import('./agentSource');
      try {
        const open = await agent.agentSource(found.address, limits).open(pid);
        if (open) return { snap: await open.snapshot(), agentProblem: null };
      } catch (err) {
        if (!(err instanceof agent.AgentUnavailable)) throw err;
        problem = err.message;
      }
    } else {
      problem = found?.problem ?? null;
    }
    if (source === 'agent') {
      throw new NoAgent(problem === null
        ? `process ${pid} has no tasklens agent (no discovery file for it); run the program under \`tasklens run\``
        : `cannot ask the tasklens agent of process ${pid}: ${problem}`);
    }
  }
  const memory: TaskSource = memorySource(limits);
  try {
    const open = (await memory.open(pid))!;
    try {
      return { snap: await open.snapshot(), agentProblem: problem };
    } finally {
      open.close();
    }
  } catch (err) {
    // Tell why the agent was not used before the reason memory cannot be read either.
    if (err instanceof ProcError && problem !== null) err.message = `${agentNote(pid, problem)}; and ${err.message}`;
    throw err;
  }
}

export function agentNote(pid: number, problem: string): string {
  return `the tasklens agent of process ${pid} could not be asked (${problem})`;
}
