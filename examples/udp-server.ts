/**
 * The UDP server of the tutorial, on our socket facade. The Python original:
 *
 *   import socket
 *   port=8081
 *   s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
 *   s.bind(('',port))                      # receive from any sender on this port
 *   print('正在等待接入...')                 # "waiting for connections..."
 *   while True:
 *       data,addr=s.recvfrom(1024)
 *       print('Received:',data,'from',addr)
 */
import { AF_INET, SOCK_DGRAM } from '../src/socket/constants.js';
import type { SocketApi } from '../src/socket/socket-api.js';
import { consoleIo, type Io } from './io.js';
import { isMain, runOnDevice } from './run-on-device.js';

export async function main(net: SocketApi, io: Io, count = Infinity): Promise<void> {
  const port = 8081;
  const s = net.socket(AF_INET, SOCK_DGRAM);
  s.bind(['', port]);
  io.print('waiting for datagrams...');
  for (let i = 0; i < count; i++) {
    const [data, addr] = await s.recvfrom(1024);
    io.print('Received:', Buffer.from(data).toString(), 'from', addr);
  }
  s.close();
}

if (isMain(import.meta.url)) await runOnDevice((net) => main(net, consoleIo()));
