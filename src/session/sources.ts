// source, loadedSources, exceptionInfo.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { promises as fs } from 'node:fs';
import { ErrorCode, UserError } from '../dap/errors';
import type { Session } from './session';

export function registerSources(session: Session): void {
  session.register<DebugProtocol.SourceArguments>('source', async (args) => {
    const reference = args.source?.sourceReference || args.sourceReference;
    if (reference) {
      const body = await session.agent.request('source', { sourceReference: reference });
      return { content: body.content, mimeType: 'text/x-python' } satisfies DebugProtocol.SourceResponse['body'];
    }
    const file = args.source?.path;
    if (!file) throw new UserError(ErrorCode.BadArguments, 'source needs "sourceReference" or "source.path".');
    try {
      return { content: await fs.readFile(file, 'utf8'), mimeType: 'text/x-python' } satisfies DebugProtocol.SourceResponse['body'];
    } catch {
      throw new UserError(ErrorCode.BadArguments, `Cannot read source ${file}.`);
    }
  });

  session.register<DebugProtocol.LoadedSourcesArguments>('loadedSources', async () => {
    const body = await session.agent.request('loadedSources', {});
    return { sources: body.sources.map((s) => ({ name: s.name, path: s.path })) } satisfies DebugProtocol.LoadedSourcesResponse['body'];
  });

  session.register<DebugProtocol.ExceptionInfoArguments>('exceptionInfo', async (args) => {
    const body = await session.agent.request('exceptionInfo', { threadId: args.threadId });
    return {
      exceptionId: body.exceptionId,
      description: body.description,
      breakMode: body.breakMode,
      details: body.details && {
        message: body.details.message,
        typeName: body.details.typeName,
        fullTypeName: body.details.fullTypeName,
        stackTrace: body.details.stackTrace,
      },
    } satisfies DebugProtocol.ExceptionInfoResponse['body'];
  });
}
