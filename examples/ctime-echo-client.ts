/**
 * The tutorial's client for the ctime() server (port 3000).
 *
 *   tcpCliSock = socket(AF_INET, SOCK_STREAM)
 *   tcpCliSock.connect(('localhost', 3000))
 *   while True:
 *       data = input('> ')
 *       if not data: break
 *       tcpCliSock.send(data.encode('utf-8'))
 *       data = tcpCliSock.recv(BUFSIZ)
 *       if not data: break
 *       print(data.decode('utf-8'))
 *   tcpCliSock.close()
 */
import { AF_INET, SOCK_STREAM } from '../src/socket/constants.js';
import type { SocketApi } from '../src/socket/socket-api.js';
import { consoleIo, type Io } from './io.js';
import { isMain, runOnDevice } from './run-on-device.js';

export async function main(net: SocketApi, io: Io, host = 'localhost'): Promise<void> {
  const BUFSIZ = 1024;
  const tcpCliSock = net.socket(AF_INET, SOCK_STREAM);
  await tcpCliSock.connect([host, 3000]);
  for (;;) {
    const data = await io.input('> ');
    if (!data) break;
    await tcpCliSock.send(Buffer.from(data, 'utf8'));
    const reply = await tcpCliSock.recv(BUFSIZ);
    if (reply.length === 0) break;
    io.print(Buffer.from(reply).toString('utf8'));
  }
  tcpCliSock.close();
}

if (isMain(import.meta.url)) await runOnDevice((net, args) => main(net, consoleIo(), args[0]));
