// A raw DAP writer for input that DebugClient cannot send (bytes that are not JSON, requests
// without a seq): it frames whatever it is given and collects every framed message back.
import { spawn, type ChildProcess } from 'node:child_process';
import { MAIN_JS } from './paths';

export class RawAdapter {
  readonly messages: Array<Record<string, unknown>> = [];
  private buffer = Buffer.alloc(0);
  readonly process: ChildProcess;

  constructor() {
    this.process = spawn(process.execPath, [MAIN_JS, 'dap'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.process.stdout!.on('data', (chunk: Buffer) => this.receive(chunk));
  }

  sendBody(body: string): void {
    this.process.stdin!.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  sendRaw(bytes: string): void {
    this.process.stdin!.write(bytes);
  }

  async waitForCount(n: number, ms = 5000): Promise<Array<Record<string, unknown>>> {
    const deadline = Date.now() + ms;
    while (this.messages.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.messages.length < n) throw new Error(`expected ${n} messages, got ${JSON.stringify(this.messages)}`);
    return this.messages;
  }

  kill(): void {
    this.process.kill('SIGKILL');
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (true) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/.exec(this.buffer.subarray(0, end).toString())?.[1]);
      if (this.buffer.length < end + 4 + length) return;
      this.messages.push(JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString()) as Record<string, unknown>);
      this.buffer = this.buffer.subarray(end + 4 + length);
    }
  }
}
