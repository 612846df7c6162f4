/**
 * The tutorial's echo server: prints what each client says and sends it back.
 *
 *   server = socket.socket()
 *   server.bind(('127.0.0.1', 9527))
 *   server.listen(5)
 *   while True:
 *       conn, addr = server.accept()
 *       print(addr)
 *       while True:
 *           try:
 *               data = conn.recv(1024).decode('utf-8')
 *               if len(data) == 0: break      # the client has gone
 *               if data == 'q': break
 *               print(data)
 *               conn.send(data.encode('utf-8'))
 *           except Exception as e:
 *               print(e); break
 *       conn.close()
 */
import { AF_INET, SOCK_STREAM } from '../src/socket/constants.js';
import type { SocketApi } from '../src/socket/socket-api.js';
import { consoleIo, type Io } from './io.js';
import { isMain, runOnDevice } from './run-on-device.js';

/** `bindHost`: the tutorial's 127.0.0.1 (only this stack reaches it); `''` for the kernel side too. */
export async function main(net: SocketApi, io: Io, count = Infinity, bindHost = '127.0.0.1'): Promise<void> {
  const server = net.socket(AF_INET, SOCK_STREAM);
  server.bind([bindHost, 9527]);
  server.listen(5);
  for (let i = 0; i < count; i++) {
    const [conn, addr] = await server.accept();
    io.print(addr);
    for (;;) {
      try {
        const data = Buffer.from(await conn.recv(1024)).toString('utf8');
        if (data.length === 0) break;
        if (data === 'q') break;
        io.print(data);
        await conn.send(Buffer.from(data, 'utf8'));
      } catch (e) {
        io.print((e as Error).message);
        break;
      }
    }
    conn.close();
  }
  server.close();
}

if (isMain(import.meta.url)) await runOnDevice((net, args) => main(net, consoleIo(), Infinity, args[0]));
