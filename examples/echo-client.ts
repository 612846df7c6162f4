/**
 * The tutorial's interactive echo client.
 *
 *   client = socket.socket()
 *   client.connect(('127.0.0.1', 9527))
 *   while True:
 *       send_msg = input('client ---> server: ')
 *       client.send(send_msg.encode('utf-8'))
 *       if send_msg == 'q': break
 *       date = client.recv(1024).decode('utf-8')
 *       print(date)
 *   client.close()
 */
import { AF_INET, SOCK_STREAM } from '../src/socket/constants.js';
import type { SocketApi } from '../src/socket/socket-api.js';
import { consoleIo, type Io } from './io.js';
import { isMain, runOnDevice } from './run-on-device.js';

export async function main(net: SocketApi, io: Io, host = '127.0.0.1'): Promise<void> {
  const client = net.socket(AF_INET, SOCK_STREAM);
  await client.connect([host, 9527]);
  for (;;) {
    let sendMsg = await io.input('client ---> server: ');
    if (sendMsg === '') sendMsg = 'q'; // end of input ends the session too
    await client.send(Buffer.from(sendMsg, 'utf8'));
    if (sendMsg === 'q') break;
    const date = Buffer.from(await client.recv(1024)).toString('utf8');
    io.print(date);
  }
  client.close();
}

if (isMain(import.meta.url)) await runOnDevice((net, args) => main(net, consoleIo(), args[0]));
