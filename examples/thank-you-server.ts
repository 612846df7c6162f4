/**
 * The tutorial's one-shot TCP server: accept one client, print what it sent, thank it.
 *
 *   tcp_server_socket = socket(AF_INET, SOCK_STREAM)
 *   tcp_server_socket.bind(('', 7788))
 *   tcp_server_socket.listen(128)
 *   client_socket, clientAddr = tcp_server_socket.accept()
 *   recv_data = client_socket.recv(1024)
 *   print('接收到的数据为:', recv_data.decode('utf-8'))   # "received:"
 *   client_socket.send("thank you !".encode('utf-8'))
 *   client_socket.close()
 */
import { AF_INET, SOCK_STREAM } from '../src/socket/constants.js';
import type { SocketApi } from '../src/socket/socket-api.js';
import { consoleIo, type Io } from './io.js';
import { isMain, runOnDevice } from './run-on-device.js';

export async function main(net: SocketApi, io: Io): Promise<void> {
  const tcpServerSocket = net.socket(AF_INET, SOCK_STREAM);
  tcpServerSocket.bind(['', 7788]);
  tcpServerSocket.listen(128);
  const [clientSocket] = await tcpServerSocket.accept();
  const recvData = await clientSocket.recv(1024);
  io.print('接收到的数据为:', Buffer.from(recvData).toString('utf8'));
  await clientSocket.send(Buffer.from('thank you !', 'utf8'));
  clientSocket.close();
  tcpServerSocket.close();
}

if (isMain(import.meta.url)) await runOnDevice((net) => main(net, consoleIo()));
