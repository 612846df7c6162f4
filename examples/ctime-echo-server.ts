/**
 * The tutorial's ctime()-stamped echo server (port 3000).
 *
 *   tcpSerSock = socket(AF_INET, SOCK_STREAM)
 *   tcpSerSock.bind(('', 3000))
 *   tcpSerSock.listen(5)
 *   while True:
 *       print('waiting for connnecting...')
 *       tcpCliSock, addr = tcpSerSock.accept()
 *       print('...connecting from:', addr)
 *       while True:
 *           data = tcpCliSock.recv(BUFSIZ)
 *           if not data: break
 *           data = '[{}] {}'.format(ctime(), data.decode('utf-8'))
 *           tcpCliSock.send(data.encode('utf-8'))
 *       tcpCliSock.close()
 *   tcpSerSock.close()
 */
import { AF_INET, SOCK_STREAM } from '../src/socket/constants.js';
import type { SocketApi } from '../src/socket/socket-api.js';
import { ctime } from '../src/services/ctime.js';
import { consoleIo, type Io } from './io.js';
import { isMain, runOnDevice } from './run-on-device.js';

export async function main(net: SocketApi, io: Io, count = Infinity, now: () => number = Date.now): Promise<void> {
  const BUFSIZ = 1024;
  const tcpSerSock = net.socket(AF_INET, SOCK_STREAM);
  tcpSerSock.bind(['', 3000]);
  tcpSerSock.listen(5);
  for (let i = 0; i < count; i++) {
    io.print('waiting for connnecting...');
    const [tcpCliSock, addr] = await tcpSerSock.accept();
    io.print('...connecting from:', addr);
    for (;;) {
      const data = await tcpCliSock.recv(BUFSIZ);
      if (data.length === 0) break;
      const reply = `[${ctime(now())}] ${Buffer.from(data).toString('utf8')}`;
      await tcpCliSock.send(Buffer.from(reply, 'utf8'));
    }
    tcpCliSock.close();
  }
  tcpSerSock.close();
}

if (isMain(import.meta.url)) await runOnDevice((net) => main(net, consoleIo()));
