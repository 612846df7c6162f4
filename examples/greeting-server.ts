/**
 * The tutorial's first server: greets each client with one line and hangs up.
 *
 *   serversocket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
 *   host = socket.gethostname()
 *   serversocket.bind((host, 9999))
 *   serversocket.listen(5)
 *   while True:
 *       clientsocket, addr = serversocket.accept()
 *       print("连接地址: %s" % str(addr))              # "connection from"
 *       msg = '我是server.py文件' + "\r\n"             # "I am server.py"
 *       clientsocket.send(msg.encode('utf-8'))
 *       clientsocket.close()
 */
import { AF_INET, SOCK_STREAM } from '../src/socket/constants.js';
import type { SocketApi } from '../src/socket/socket-api.js';
import { consoleIo, type Io } from './io.js';
import { isMain, runOnDevice } from './run-on-device.js';

export async function main(net: SocketApi, io: Io, count = Infinity): Promise<void> {
  const serversocket = net.socket(AF_INET, SOCK_STREAM);
  const host = net.gethostname(); // the stack's address on the device: the kernel reaches it too
  serversocket.bind([host, 9999]);
  serversocket.listen(5);
  for (let i = 0; i < count; i++) {
    const [clientsocket, addr] = await serversocket.accept();
    io.print(`连接地址: ${JSON.stringify(addr)}`);
    const msg = '我是server.py文件' + '\r\n';
    await clientsocket.send(Buffer.from(msg, 'utf8'));
    clientsocket.close();
  }
  serversocket.close();
}

if (isMain(import.meta.url)) await runOnDevice((net) => main(net, consoleIo()));
