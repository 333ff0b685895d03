// variables (paged by the agent through indexed/named filters) and setVariable.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { userCodeWaitMs } from './evaluate';
import type { Session } from './session';

export function registerVariables(session: Session): void {
  session.register<DebugProtocol.VariablesArguments>('variables', async (args) => {
    const body = await session.agent.request('variables', {
      variablesReference: args.variablesReference,
      filter: args.filter,
      start: args.start,
      count: args.count === 0 ? undefined : args.count,
    });
    const variables: DebugProtocol.Variable[] = body.variables.map((v) => ({
      name: v.name,
      value: v.value,
      type: v.type,
      variablesReference: v.variablesReference,
      indexedVariables: v.indexedVariables,
      namedVariables: v.namedVariables,
      evaluateName: v.evaluateName,
    }));
    return { variables } satisfies DebugProtocol.VariablesResponse['body'];
  });

  session.register<DebugProtocol.SetVariableArguments>('setVariable', async (args) => {
    const body = await session.agent.request('setVariable', {
      variablesReference: args.variablesReference,
      name: args.name,
      value: args.value,
    }, userCodeWaitMs(session));
    return {
      value: body.value,
      type: body.type,
      variablesReference: body.variablesReference,
      indexedVariables: body.indexedVariables,
      namedVariables: body.namedVariables,
    } satisfies DebugProtocol.SetVariableResponse['body'];
  });
}
