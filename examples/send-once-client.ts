/**
 * The tutorial's one-shot TCP client: ask for the server, send one line, print the reply.
 *
 *   tcp_client_socket = socket(AF_INET, SOCK_STREAM)
 *   server_ip = input("请输入服务器ip:")            # "server ip:"
 *   server_port = int(input("请输入服务器port:"))   # "server port:"
 *   tcp_client_socket.connect((server_ip, server_port))
 *   send_data = input("请输入要发送的数据:")         # "data to send:"
 *   tcp_client_socket.send(send_data.encode("gbk"))
 *   recvData = tcp_client_socket.recv(1024)
 *   print('接收到的数据为:', recvData.decode('gbk'))
 *   tcp_client_socket.close()
 *
 * (GBK is read and written as UTF-8 here: Node has no GBK encoder built in.)
 */
import { AF_INET, SOCK_STREAM } from '../src/socket/constants.js';
import type { SocketApi } from '../src/socket/socket-api.js';
import { consoleIo, type Io } from './io.js';
import { isMain, runOnDevice } from './run-on-device.js';

export async function main(net: SocketApi, io: Io): Promise<void> {
  const tcpClientSocket = net.socket(AF_INET, SOCK_STREAM);
  const serverIp = await io.input('请输入服务器ip:');
  const serverPort = Number.parseInt(await io.input('请输入服务器port:'), 10);
  await tcpClientSocket.connect([serverIp, serverPort]);
  const sendData = await io.input('请输入要发送的数据:');
  await tcpClientSocket.send(Buffer.from(sendData, 'utf8'));
  const recvData = await tcpClientSocket.recv(1024);
  io.print('接收到的数据为:', Buffer.from(recvData).toString('utf8'));
  tcpClientSocket.close();
}

if (isMain(import.meta.url)) await runOnDevice((net) => main(net, consoleIo()));
