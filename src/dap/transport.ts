// Where DAP bytes come from: the process's stdio, or one TCP connection on loopback.
import * as net from 'node:net';
import type { Readable, Writable } from 'node:stream';

export interface Transport {
  input: Readable;
  output: Writable;
  /** Resolves once the bytes written so far have left the process. */
  flush(): Promise<void>;
}

export function stdioTransport(): Transport {
  return {
    input: process.stdin,
    output: process.stdout,
    flush: () => new Promise((resolve) => process.stdout.write('', () => resolve())),
  };
}

/** Serves exactly one client: the adapter's life is that one session. */
export function acceptOneTcpClient(port: number, onListening: (port: number) => void): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true }, (socket) => {
      server.close();
      resolve({
        input: socket,
        output: socket,
        flush: () => new Promise((done) => socket.end(() => done())),
      });
    });
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      onListening(address.port);
    });
  });
}
