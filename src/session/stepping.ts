// continue, next, stepIn, stepOut, pause. All threads stop together and resume together.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Session } from './session';

export function registerStepping(session: Session): void {
  session.register<DebugProtocol.ContinueArguments>('continue', async (args) => {
    await session.resume(() => session.agent.request('continue', { threadId: args.threadId }));
    return { allThreadsContinued: true } satisfies DebugProtocol.ContinueResponse['body'];
  });

  for (const command of ['next', 'stepIn', 'stepOut'] as const) {
    session.register<DebugProtocol.NextArguments>(command, async (args) => {
      await session.resume(() => session.agent.request(command, { threadId: args.threadId }));
      return {};
    });
  }

  session.register<DebugProtocol.PauseArguments>('pause', async (args) => {
    await session.agent.request('pause', { threadId: args.threadId });
    return {};
  });
}
