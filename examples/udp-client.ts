/**
 * The UDP client of the tutorial, on our socket facade. The Python original:
 *
 *   import socket
 *   port=8081
 *   host='localhost'
 *   s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
 *   s.sendto(b'hello,this is a test info !',(host,port))
 *
 * Run on a device: node dist/examples/udp-client.js --netns NS 10.8.0.1
 */
import { AF_INET, SOCK_DGRAM } from '../src/socket/constants.js';
import type { SocketApi } from '../src/socket/socket-api.js';
import { isMain, runOnDevice } from './run-on-device.js';

export async function main(net: SocketApi, host = 'localhost'): Promise<void> {
  const port = 8081;
  const s = net.socket(AF_INET, SOCK_DGRAM);
  await s.sendto(Buffer.from('hello,this is a test info !'), [host, port]);
  s.close();
}

if (isMain(import.meta.url)) await runOnDevice((net, args) => main(net, args[0]));
