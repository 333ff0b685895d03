// `tasklens attach PID` serves DAP for one process: a client's `attach` that names no target is
// that process; one that names another is refused, so the server cannot be pointed elsewhere.
import { ErrorCode, UserError } from '../dap/errors';

export function pinProcess(args: unknown, pid: number | undefined): unknown {
  if (pid === undefined || args === null || typeof args !== 'object' || Array.isArray(args)) return args;
  const given = args as Record<string, unknown>;
  if (given.connect !== undefined || (given.processId !== undefined && Number(given.processId) !== pid)) {
    throw new UserError(ErrorCode.BadArguments, `This adapter was started by \`tasklens attach ${pid}\` and attaches to process ${pid} only.`);
  }
  return { ...given, processId: pid };
}
