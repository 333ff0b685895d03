// DAP base protocol: `Content-Length: N\r\n\r\n` followed by N bytes of UTF-8 JSON.
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';

const HEADER_END = Buffer.from('\r\n\r\n', 'ascii');
// A header block longer than this is not DAP; drop it rather than buffer without limit.
const MAX_HEADER = 8192;

export interface FrameReaderEvents {
  message: [text: string];
  headerError: [problem: string];
  end: [];
}

export class FrameReader extends EventEmitter<FrameReaderEvents> {
  private buffer: Buffer = Buffer.alloc(0);
  private bodyLength = -1;

  constructor(input: Readable) {
    super();
    input.on('data', (chunk: Buffer) => this.push(chunk));
    input.on('end', () => this.emit('end'));
    input.on('close', () => this.emit('end'));
    input.on('error', () => this.emit('end'));
  }

  private push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.step()) {
      /* keep draining complete frames */
    }
  }

  private step(): boolean {
    if (this.bodyLength < 0) {
      const end = this.buffer.indexOf(HEADER_END);
      if (end < 0) {
        if (this.buffer.length > MAX_HEADER) {
          this.buffer = Buffer.alloc(0);
          this.emit('headerError', 'header block too long or missing its blank line');
        }
        return false;
      }
      const header = this.buffer.subarray(0, end).toString('ascii');
      this.buffer = this.buffer.subarray(end + HEADER_END.length);
      const match = /^content-length:\s*(\d+)\s*$/im.exec(header);
      if (!match) {
        this.emit('headerError', 'header without a Content-Length field');
        return true;
      }
      this.bodyLength = Number(match[1]);
    }
    if (this.buffer.length < this.bodyLength) return false;
    const body = this.buffer.subarray(0, this.bodyLength).toString('utf8');
    this.buffer = this.buffer.subarray(this.bodyLength);
    this.bodyLength = -1;
    this.emit('message', body);
    return true;
  }
}

export function writeFrame(output: Writable, message: object): void {
  const json = JSON.stringify(message);
  output.write(`Content-Length: ${Buffer.byteLength(json, 'utf8')}\r\n\r\n${json}`);
}
