// continue, next, stepIn, stepOut, pause. All threads stop together and resume together.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Session } from './session';

export function registerStepping(session: Session): void {
  // The agent resumes every thread for a step too. Clients mark only the stepped thread as
  // running on a step's response, so the event tells them the others run again as well.
  const resumed = (threadId: number): void =>
    session.event<DebugProtocol.ContinuedEvent>('continued', { threadId, allThreadsContinued: true });

  session.register<DebugProtocol.ContinueArguments>('continue', async (args) => {
    await session.resume(() => session.agent.request('continue', { threadId: args.threadId }));
    resumed(args.threadId);
    return { allThreadsContinued: true } satisfies DebugProtocol.ContinueResponse['body'];
  });

  for (const command of ['next', 'stepIn', 'stepOut'] as const) {
    session.register<DebugProtocol.NextArguments>(command, async (args) => {
      await session.resume(() => session.agent.request(command, { threadId: args.threadId }));
      resumed(args.threadId);
      return {};
    });
  }

  session.register<DebugProtocol.PauseArguments>('pause', async (args) => {
    await session.agent.request('pause', { threadId: args.threadId });
    return {};
  });
}
