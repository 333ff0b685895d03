// threads (real threads, then one pseudo-thread per asyncio task, capped) and the custom request
// `tasklens/taskTable` that returns every task, uncapped.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DEFAULT_MAX_TASK_THREADS } from './launchArgs';
import type { Session } from './session';

export const TASK_TABLE_REQUEST = 'tasklens/taskTable';

export function registerThreads(session: Session): void {
  // Clients ask for threads after every stop; the notice is news only when the count changes.
  let lastOmitted = 0;

  session.register<object>('threads', async () => {
    // Clients ask for threads at any moment, also before the program starts or after it ends.
    if (!session.hasAgent || session.state === 'ended') return { threads: [] };
    const maxTaskThreads = session.launchConfig?.maxTaskThreads ?? session.attachConfig?.maxTaskThreads ?? DEFAULT_MAX_TASK_THREADS;
    const body = await session.agent.request('threads', { maxTaskThreads });
    const omitted = body.tasksOmitted ?? 0;
    if (omitted !== lastOmitted && omitted > 0) {
      session.output('console', omittedNotice(omitted, maxTaskThreads));
    }
    lastOmitted = omitted;
    return { threads: body.threads.map((t) => ({ id: t.id, name: t.name })) } satisfies DebugProtocol.ThreadsResponse['body'];
  });

  session.register<object>(TASK_TABLE_REQUEST, async () => session.agent.request('taskTable', {}));
}

function omittedNotice(omitted: number, shown: number): string {
  const tasks = omitted === 1 ? '1 asyncio task is' : `${omitted} asyncio tasks are`;
  return (
    `${tasks} not in the threads list, which shows at most ${shown} tasks (the stopped one always). ` +
    'To see them all, raise "maxTaskThreads" in the launch configuration, send the custom request ' +
    `"${TASK_TABLE_REQUEST}", or run \`tasklens ps PID\`.\n`
  );
}
