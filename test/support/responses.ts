// The whole DAP response to a request, failures included: DebugClient keeps only the message
// of a failed response, and tests of error bodies (showUser) need the rest.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Harness } from './harness';

export function rawRequest(h: Harness, command: string, args: object): Promise<DebugProtocol.Response> {
  const dc = h.dc as unknown as { doSend(command: string, args: object, done: (r: DebugProtocol.Response) => void): void };
  return new Promise((resolve) => dc.doSend(command, args, resolve));
}
