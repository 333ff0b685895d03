// evaluate (repl runs statements and top-level `await` too; hover and watch are expressions
// only) and completions. The agent answers user code within the session's evaluateTimeout
// (interrupted, or left to finish with its result on the console), and an `await` within
// awaitTimeout more; waiting for that answer takes longer than the agent's usual request
// timeout when a slow evaluation already runs ahead of it.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DEFAULT_TIMEOUT_MS } from '../agent/client';
import { ErrorCode, UserError } from '../dap/errors';
import { DEFAULT_AWAIT_TIMEOUT, DEFAULT_EVALUATE_TIMEOUT } from './launchArgs';
import type { Session } from './session';

/** How long to wait for the agent's answer to a request that runs user code. */
export function userCodeWaitMs(session: Session): number {
  const config = session.launchConfig ?? session.attachConfig;
  const limit = (config?.evaluateTimeout ?? DEFAULT_EVALUATE_TIMEOUT) + (config?.awaitTimeout ?? DEFAULT_AWAIT_TIMEOUT);
  return Math.max(DEFAULT_TIMEOUT_MS, 2 * limit * 1000 + 5000);
}

const CONTEXTS = new Set(['repl', 'watch', 'hover', 'variables']);

export function registerEvaluate(session: Session): void {
  session.register<DebugProtocol.EvaluateArguments>('evaluate', async (args) => {
    // Contexts the agent does not know (e.g. "clipboard") are plain expression evaluations.
    const context = args.context === undefined ? 'repl' : CONTEXTS.has(args.context) ? args.context : 'watch';
    try {
      const body = await session.agent.request('evaluate', { expression: args.expression, frameId: args.frameId, context }, userCodeWaitMs(session));
      // An `await` turned the paused loop: other tasks moved, their stacks and values changed.
      if (body.loopRan && session.clientInvalidates) {
        session.event<DebugProtocol.InvalidatedEvent>('invalidated', { areas: ['threads', 'stacks', 'variables'] });
      }
      return {
        result: body.result,
        type: body.type,
        variablesReference: body.variablesReference,
        indexedVariables: body.indexedVariables,
        namedVariables: body.namedVariables,
      } satisfies DebugProtocol.EvaluateResponse['body'];
    } catch (err) {
      // Every context shows the error where the expression was typed (the console, the watch
      // row, the hover); a pop-up on top would repeat it.
      if (err instanceof UserError) throw new UserError(err.code, err.message, false);
      throw new UserError(ErrorCode.Internal, `Internal error in "evaluate": ${err instanceof Error ? err.message : String(err)}`, false);
    }
  });

  session.register<DebugProtocol.CompletionsArguments>('completions', async (args) => {
    const column = session.columnsStartAt1 ? args.column : args.column + 1;
    const body = await session.agent.request('completions', { text: args.text, column, frameId: args.frameId }, userCodeWaitMs(session));
    const targets: DebugProtocol.CompletionItem[] = body.targets.map((t) => ({
      label: t.label,
      type: t.type as DebugProtocol.CompletionItemType | undefined,
      start: t.start,
      length: t.length,
    }));
    return { targets } satisfies DebugProtocol.CompletionsResponse['body'];
  });
}
