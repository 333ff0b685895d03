// stackTrace and scopes. Frame ids are the agent's and die when the program resumes.
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AgentFrame } from '../agent/protocol';
import { ErrorCode, UserError } from '../dap/errors';
import { refusal } from './gating';
import type { Session } from './session';

/** Thread ids from here on are asyncio tasks (the agent's pseudo-threads). */
const TASK_ID_BASE = 1_000_000;

export function registerStack(session: Session): void {
  session.register<DebugProtocol.StackTraceArguments>('stackTrace', async (args) => {
    // A task's stack can be read while the program runs (a live view of tasks); its frame
    // ids then lead nowhere until the program stops.
    if (session.state === 'running' && !(args.threadId >= TASK_ID_BASE)) {
      throw new UserError(ErrorCode.WrongState, refusal('stackTrace', 'running'));
    }
    const justMyCode = session.launchConfig?.justMyCode ?? session.attachConfig?.justMyCode ?? true;
    const body = await session.agent.request('stackTrace', {
      threadId: args.threadId,
      startFrame: args.startFrame,
      levels: args.levels === 0 ? undefined : args.levels,
      justMyCode,
    });
    const stackFrames = body.stackFrames.map((frame) => toDapFrame(session, frame));
    return { stackFrames, totalFrames: body.totalFrames ?? stackFrames.length } satisfies DebugProtocol.StackTraceResponse['body'];
  });

  session.register<DebugProtocol.ScopesArguments>('scopes', async (args) => {
    const body = await session.agent.request('scopes', { frameId: args.frameId });
    const scopes: DebugProtocol.Scope[] = body.scopes.map((scope) => ({
      name: scope.name,
      presentationHint: scope.name === 'Locals' ? 'locals' : undefined,
      variablesReference: scope.variablesReference,
      namedVariables: scope.namedVariables,
      expensive: scope.expensive,
    }));
    return { scopes } satisfies DebugProtocol.ScopesResponse['body'];
  });
}

function toDapFrame(session: Session, frame: AgentFrame): DebugProtocol.StackFrame {
  // "awaited by Task: …" separators between a task's chain and its awaiter's: no source, no line.
  if (frame.presentationHint === 'label') {
    return { id: frame.id, name: frame.name, line: 0, column: 0, presentationHint: 'label' };
  }
  const file = frame.path ?? '';
  const onDisk = file !== '' && path.isAbsolute(file) && fs.existsSync(file);
  const source: DebugProtocol.Source = onDisk
    ? { name: path.basename(file), path: file }
    : { name: file || frame.name, sourceReference: frame.sourceReference ?? 0, origin: 'not on disk' };
  const subtle = frame.library === true || frame.presentationHint === 'subtle';
  if (subtle) source.presentationHint = 'deemphasize';
  return {
    id: frame.id,
    name: frame.name,
    source,
    line: session.clientLine(frame.line),
    column: session.clientColumn(frame.column || 1),
    presentationHint: subtle ? 'subtle' : 'normal',
  };
}
