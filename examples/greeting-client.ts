/**
 * The tutorial's first client: connect, read the greeting, print it.
 *
 *   s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
 *   host = socket.gethostname()
 *   s.connect((host, 9999))
 *   msg = s.recv(1024)
 *   s.close()
 *   print(msg.decode('utf-8'))
 */
import { AF_INET, SOCK_STREAM } from '../src/socket/constants.js';
import type { SocketApi } from '../src/socket/socket-api.js';
import { consoleIo, type Io } from './io.js';
import { isMain, runOnDevice } from './run-on-device.js';

export async function main(net: SocketApi, io: Io, host = net.gethostname()): Promise<void> {
  const s = net.socket(AF_INET, SOCK_STREAM);
  await s.connect([host, 9999]);
  const msg = await s.recv(1024);
  s.close();
  io.print(Buffer.from(msg).toString('utf8'));
}

if (isMain(import.meta.url)) await runOnDevice((net, args) => main(net, consoleIo(), args[0]));
