/**
 * The tutorials' programs (examples/) on a real TUN device, reached across it by the
 * kernel's own nc, in a private network namespace: the greeting server (bound to
 * socket.gethostname(), the stack's address on the device), the echo server (bound to
 * 0.0.0.0 here: the tutorial's 127.0.0.1 is, by RFC 1122 §3.2.1.3, this stack's own and
 * unreachable from the wire), the select() chat room with two nc users, the UDP server,
 * and the greeting client against a kernel `nc -l`. Each example runs on its own device
 * (tcpip1, 10.8.0.2; the kernel side 10.8.0.1) and stops when the script ends.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT, integrationUnavailable, uniqueNetns } from './harness.js';

const unavailable = integrationUnavailable();

/** Runs `script` (bash) in a fresh namespace, with `start EXAMPLE [ARGS]` starting an example and waiting for its device. */
function inNetns(script: string, timeout = 20_000): { status: number | null; stdout: string; stderr: string } {
  const ns = uniqueNetns('ex');
  const prelude = `
    set -e
    cd ${ROOT}
    ip link set lo up
    start() {
      node dist/examples/$1.js "\${@:2}" > /tmp/$$.$1.log 2>&1 &
      EX=$!
      for i in $(seq 100); do ip -4 addr show tcpip1 2>/dev/null | grep -q 10.8.0.1 && break; sleep 0.05; done
      sleep 0.3
    }
    stop() { kill $EX; wait $EX 2>/dev/null || true; cat /tmp/$$.$1.log; rm -f /tmp/$$.$1.log; }
  `;
  spawnSync('ip', ['netns', 'add', ns]);
  try {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'bash', '-c', prelude + script], { encoding: 'utf8', timeout });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

describe.skipIf(unavailable !== null)('the tutorial programs across a TUN device, from the kernel\'s nc', () => {
  it('greeting server on gethostname(): nc gets the greeting; the server prints who came', () => {
    const r = inNetns(`
      start greeting-server
      nc -w 2 10.8.0.2 9999 < /dev/null
      echo '--'
      stop greeting-server
    `);
    expect(r.status, r.stderr).toBe(0);
    const [client, server] = r.stdout.split('--\n');
    expect(client).toBe('我是server.py文件\r\n');
    expect(server).toMatch(/连接地址: \["10\.8\.0\.1",\d+\]/);
  });

  it('echo server: nc sends a line and gets it back', () => {
    const r = inNetns(`
      start echo-server 0.0.0.0
      printf 'hello from the kernel' | nc -w 1 10.8.0.2 9527
      echo
      stop echo-server
    `);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('hello from the kernel');
  });

  it('select() chat room: what one nc user says, the other reads', () => {
    const r = inNetns(`
      start chat-server
      (sleep 0.8; printf 'hi from A\\n'; sleep 1.2) | nc -N -w 3 10.8.0.2 5000 > /tmp/$$.a &
      A=$!
      sleep 0.3
      (sleep 1.8) | nc -w 3 10.8.0.2 5000 > /tmp/$$.b || true
      wait $A || true
      cat /tmp/$$.b; rm -f /tmp/$$.a /tmp/$$.b
      echo '--'
      stop chat-server
    `);
    expect(r.status, r.stderr).toBe(0);
    const [b, server] = r.stdout.split('--\n');
    expect(b).toMatch(/<\["10\.8\.0\.1",\d+\]> hi from A\n/);
    expect(server).toMatch(/Chat server started on port 5000/);
    expect(server.match(/connected/g)).toHaveLength(2);
  });

  it('UDP server: nc -u sends a datagram; the server prints it and its sender', () => {
    const r = inNetns(`
      start udp-server
      printf 'ping' | nc -u -w 1 10.8.0.2 8081 || true
      stop udp-server
    `);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Received: ping from \[ '10\.8\.0\.1', \d+ \]/); // (console.log's form of the address)
  });

  it('greeting client against a kernel nc -l', () => {
    const r = inNetns(`
      (printf 'greetings from the kernel\\r\\n'; sleep 2) | nc -l 9999 > /dev/null &
      L=$!
      node dist/examples/greeting-client.js 10.8.0.1
      kill $L 2>/dev/null || true
    `);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('greetings from the kernel');
  });
});
