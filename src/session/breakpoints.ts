// setBreakpoints, setFunctionBreakpoints, setExceptionBreakpoints.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ErrorCode, UserError } from '../dap/errors';
import type { Session } from './session';

export const EXCEPTION_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = [
  { filter: 'raised', label: 'Raised Exceptions', default: false, description: 'Stop whenever an exception is raised, even if it is caught.' },
  { filter: 'uncaught', label: 'Uncaught Exceptions', default: true, description: 'Stop when an exception is not caught by the program.' },
  {
    filter: 'taskUnhandled',
    label: 'Unhandled Task Exceptions',
    default: false,
    description: 'Stop where an exception is about to escape an asyncio task that nothing awaits, before asyncio hides it in "Task exception was never retrieved".',
  },
  {
    filter: 'blockedLoop',
    label: 'Blocked Event Loop',
    default: false,
    description: 'Stop inside the code that has blocked an event loop longer than the threshold (100 ms by default), as soon as Python runs there again.',
  },
  {
    filter: 'neverAwaited',
    label: 'Coroutine Never Awaited',
    default: false,
    description: 'Stop in the frame that dropped a coroutine it never awaited, at the dropping line.',
  },
  {
    filter: 'deadlock',
    label: 'Asyncio Deadlock',
    default: false,
    description: 'Stop everything when an event loop can no longer wake up while tasks wait; the exception details hold the wait-for graph.',
  },
];

export function registerBreakpoints(session: Session): void {
  session.register<DebugProtocol.SetBreakpointsArguments>('setBreakpoints', async (args) => {
    const file = args.source?.path;
    if (typeof file !== 'string' || file === '') {
      throw new UserError(ErrorCode.BadArguments, 'setBreakpoints needs "source.path": breakpoints in sources without a file are not supported.');
    }
    const requested = args.breakpoints ?? (args.lines ?? []).map((line) => ({ line }));
    if (!Array.isArray(requested) || requested.some((bp) => typeof bp?.line !== 'number')) {
      throw new UserError(ErrorCode.BadArguments, 'setBreakpoints: every breakpoint needs a numeric "line".');
    }
    const breakpoints = await session.breakpoints.setSource(file, requested);
    return { breakpoints } satisfies DebugProtocol.SetBreakpointsResponse['body'];
  });

  session.register<DebugProtocol.SetFunctionBreakpointsArguments>('setFunctionBreakpoints', async (args) => {
    const requested = args.breakpoints ?? [];
    if (!Array.isArray(requested) || requested.some((bp) => typeof bp?.name !== 'string')) {
      throw new UserError(ErrorCode.BadArguments, 'setFunctionBreakpoints: every breakpoint needs a "name".');
    }
    const breakpoints = await session.breakpoints.setFunctions(requested);
    return { breakpoints } satisfies DebugProtocol.SetFunctionBreakpointsResponse['body'];
  });

  session.register<DebugProtocol.SetExceptionBreakpointsArguments>('setExceptionBreakpoints', async (args) => {
    const filters: unknown = args.filters ?? [];
    if (!Array.isArray(filters) || filters.some((f) => typeof f !== 'string')) {
      throw new UserError(ErrorCode.BadArguments, `setExceptionBreakpoints: "filters" must be an array of filter names, not ${JSON.stringify(filters)}.`);
    }
    const known = new Set(EXCEPTION_FILTERS.map((f) => f.filter));
    const unknown = filters.filter((f) => !known.has(f));
    if (unknown.length > 0) {
      throw new UserError(ErrorCode.BadArguments, `Unknown exception filter ${unknown.map((f) => JSON.stringify(f)).join(', ')}; use ${EXCEPTION_FILTERS.map((f) => `"${f.filter}"`).join(', ')}.`);
    }
    await session.breakpoints.setExceptions(filters);
    return {};
  });
}
