// threads: the live list from the agent (names read from threading.enumerate() each time).
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Session } from './session';

export function registerThreads(session: Session): void {
  session.register<object>('threads', async () => {
    // Clients ask for threads at any moment, also before the program starts or after it ends.
    if (!session.hasAgent || session.state === 'ended') return { threads: [] };
    const body = await session.agent.request('threads', {});
    return { threads: body.threads.map((t) => ({ id: t.id, name: t.name })) } satisfies DebugProtocol.ThreadsResponse['body'];
  });
}
