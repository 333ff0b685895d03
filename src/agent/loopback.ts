// A listening socket on 127.0.0.1 at a free port: where an agent connects back to the adapter
// (launch, attach by PID) and where child processes say hello. Nothing listens beyond loopback.
import * as net from 'node:net';

export async function listenOnLoopback(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as net.AddressInfo).port };
}
