// The program's stdout/stderr on their way to the client: in output events of bounded size,
// and no faster than the client reads them. A program that writes tens of MB at once then
// waits on its pipe, as it would on a slow terminal, instead of the adapter holding it all.
import type { Session } from './session';

/** The largest `output` text sent in one event (UTF-16 units). */
export const OUTPUT_EVENT_LIMIT = 32 * 1024;

/** Sends `text`; the promise, when there is one, says when to read more of the program's output. */
export function forwardProgramOutput(session: Session, category: 'stdout' | 'stderr', text: string): Promise<void> | undefined {
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + OUTPUT_EVENT_LIMIT, text.length);
    // Never split a surrogate pair between two events.
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--;
    session.output(category, text.slice(start, end));
    start = end;
  }
  return session.conn.congested ? session.conn.drained() : undefined;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
