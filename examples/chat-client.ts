/**
 * The chat server's client: what the user types goes to the room, what the room says is
 * printed. The classic one select()s over stdin and the socket; here the socket is
 * select()ed and lines are read from input alongside.
 *
 *   s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
 *   s.settimeout(2)
 *   s.connect((host, port))
 *   print('Connected to remote host. Start sending messages')
 *   while True:
 *       read_sockets, write_sockets, error_sockets = select.select([sys.stdin, s], [], [])
 *       for sock in read_sockets:
 *           if sock == s:
 *               data = sock.recv(4096)
 *               if not data:
 *                   print('\nDisconnected from chat server'); sys.exit()
 *               else:
 *                   sys.stdout.write(data)
 *           else:
 *               msg = sys.stdin.readline()
 *               s.send(msg)
 */
import { AF_INET, SOCK_STREAM } from '../src/socket/constants.js';
import type { SocketApi } from '../src/socket/socket-api.js';
import { consoleIo, type Io } from './io.js';
import { isMain, runOnDevice } from './run-on-device.js';
import { PORT } from './chat-server.js';

/** Sends each input line; prints what arrives; returns at end of input (leaving) or when the server goes. */
export async function main(net: SocketApi, io: Io, host = '127.0.0.1', port = PORT): Promise<void> {
  const s = net.socket(AF_INET, SOCK_STREAM);
  s.settimeout(2);
  await s.connect([host, port]);
  s.settimeout(null);
  io.print('Connected to remote host. Start sending messages');
  let gone = false;
  const room = (async () => {
    for (;;) {
      const [readable] = await net.select([s], [], []);
      if (readable.length === 0) continue;
      const data = await s.recv(4096).catch(() => new Uint8Array(0));
      if (data.length === 0) {
        if (!gone) io.print('Disconnected from chat server');
        gone = true;
        return;
      }
      io.print(Buffer.from(data).toString('utf8'));
    }
  })();
  for (;;) {
    const msg = await io.input('');
    if (msg === '' || gone) break;
    await s.send(`${msg}\n`);
  }
  gone = true;
  s.close();
  await room.catch(() => {});
}

if (isMain(import.meta.url)) await runOnDevice((net, args) => main(net, consoleIo(), args[0], args[1] ? Number(args[1]) : PORT));
