/**
 * The classic single-threaded multi-user chat server: one select() loop over the
 * listening socket and every client, each line a client sends goes to all the others.
 *
 *   CONNECTION_LIST = []
 *   server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
 *   server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
 *   server_socket.bind(("0.0.0.0", PORT))
 *   server_socket.listen(10)
 *   CONNECTION_LIST.append(server_socket)
 *   print("Chat server started on port " + str(PORT))
 *   while True:
 *       read_sockets, write_sockets, error_sockets = select.select(CONNECTION_LIST, [], [])
 *       for sock in read_sockets:
 *           if sock == server_socket:
 *               sockfd, addr = server_socket.accept()
 *               CONNECTION_LIST.append(sockfd)
 *               print("Client (%s, %s) connected" % addr)
 *               broadcast_data(sockfd, "[%s:%s] entered room\n" % addr)
 *           else:
 *               data = sock.recv(RECV_BUFFER)
 *               if data:
 *                   broadcast_data(sock, "\r" + '<' + str(sock.getpeername()) + '> ' + data)
 *               else:
 *                   broadcast_data(sock, "Client (%s, %s) is offline\n" % addr)
 *                   print("Client (%s, %s) is offline" % addr)
 *                   sock.close()
 *                   CONNECTION_LIST.remove(sock)
 *
 *   def broadcast_data(sock, message):
 *       for socket in CONNECTION_LIST:
 *           if socket != server_socket and socket != sock:
 *               socket.send(message)
 */
import { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR } from '../src/socket/constants.js';
import type { SocketApi } from '../src/socket/socket-api.js';
import type { StreamSocket } from '../src/socket/stream-socket.js';
import { consoleIo, type Io } from './io.js';
import { isMain, runOnDevice } from './run-on-device.js';

const RECV_BUFFER = 4096;
export const PORT = 5000;

/** Serves the room (forever, or until `clientsToServe` clients have left). */
export async function main(net: SocketApi, io: Io, clientsToServe = Infinity): Promise<void> {
  const CONNECTION_LIST: StreamSocket[] = [];
  const serverSocket = net.socket(AF_INET, SOCK_STREAM);
  serverSocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  serverSocket.bind(['0.0.0.0', PORT]);
  serverSocket.listen(10);
  CONNECTION_LIST.push(serverSocket);
  io.print(`Chat server started on port ${PORT}`);

  const broadcastData = async (sock: StreamSocket, message: string): Promise<void> => {
    for (const socket of CONNECTION_LIST) {
      if (socket !== serverSocket && socket !== sock) {
        try {
          await socket.send(message);
        } catch {
          // a client that has gone: its own recv() will say so
        }
      }
    }
  };

  let left = 0;
  while (left < clientsToServe) {
    const [readSockets] = await net.select(CONNECTION_LIST, [], []);
    for (const sock of readSockets as StreamSocket[]) {
      if (sock === serverSocket) {
        const [sockfd, addr] = await serverSocket.accept();
        CONNECTION_LIST.push(sockfd);
        io.print(`Client (${addr[0]}, ${addr[1]}) connected`);
        await broadcastData(sockfd, `[${addr[0]}:${addr[1]}] entered room\n`);
      } else {
        const addr = sock.getpeername();
        let data: Uint8Array;
        try {
          data = await sock.recv(RECV_BUFFER);
        } catch {
          data = new Uint8Array(0); // reset: offline too
        }
        if (data.length > 0) {
          await broadcastData(sock, `\r<${JSON.stringify(addr)}> ${Buffer.from(data).toString('utf8')}`);
        } else {
          await broadcastData(sock, `Client (${addr[0]}, ${addr[1]}) is offline\n`);
          io.print(`Client (${addr[0]}, ${addr[1]}) is offline`);
          sock.close();
          CONNECTION_LIST.splice(CONNECTION_LIST.indexOf(sock), 1);
          left++;
        }
      }
    }
  }
  for (const s of CONNECTION_LIST) s.close();
}

if (isMain(import.meta.url)) await runOnDevice((net) => main(net, consoleIo()));
