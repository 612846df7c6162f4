/**
 * The IPv6 addresses a stack is given as text (openTun's addr6/gateway6, the CLI's
 * --addr6/--gateway6): defaults, and clear errors for bad values.
 */
import { describe, expect, it } from 'vitest';
import { deviceOptions } from '../../src/cli/options.js';
import { addressing6 } from '../../src/host-addressing.js';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { AF_INET6, SOCK_STREAM } from '../../src/socket/constants.js';

describe('addressing6', () => {
  it('defaults to /64 and the prefix\'s ::1 as the kernel side (::2 when the stack is ::1)', () => {
    const a = addressing6('fd00:7::2');
    expect([a.addr.toString(), a.prefixLen, a.gateway!.toString()]).toEqual(['fd00:7::2', 64, 'fd00:7::1']);
    expect(addressing6('fd00:7::1/64').gateway!.toString()).toBe('fd00:7::2');
    expect(addressing6('fd00:7::2/64', 'fe80::1').gateway!.toString()).toBe('fe80::1'); // a link-local router is on-link
  });

  it.each([
    ['fd00:7::2/200', undefined, /not an IPv6 address with a prefix/],
    ['10.7.0.2/24', undefined, /not an IPv6 address with a prefix/],
    ['ff02::1', undefined, /not a unicast address/],
    ['::', undefined, /not a unicast address/],
    ['fe80::2', undefined, /link-local/],
    ['fd00:7::2/64', 'fd00:8::1', /must be another address on fd00:7::2\/64/],
    ['fd00:7::2/64', 'fd00:7::2', /must be another address/],
    ['fd00:7::2/64', 'nope', /gateway6 "nope" is not an IPv6 address/],
  ])('%s with gateway %s: a clear error', (addr, gw, err) => {
    expect(() => addressing6(addr, gw)).toThrow(err);
  });

  it('the CLI: IPv6 by default, --addr6 off, and errors that name the option', () => {
    const d = { dev: 'tcpip0', addr: '10.7.0.2/24', gateway: '10.7.0.1', addr6: 'fd00:7::2/64', gateway6: 'fd00:7::1' };
    expect(deviceOptions({}, d)).toMatchObject({ addr6: 'fd00:7::2/64', gateway6: 'fd00:7::1' });
    expect(deviceOptions({ addr6: 'off' }, d).addr6).toBeUndefined();
    expect(deviceOptions({ addr6: 'fd00:9::5/64' }, d)).toMatchObject({ addr6: 'fd00:9::5/64', gateway6: undefined });
    expect(() => deviceOptions({ addr6: 'fd00:9::5/64x' }, d)).toThrow(/--addr6 "fd00:9::5\/64x"/);
    expect(() => deviceOptions({ addr6: 'off', gateway6: 'fd00:7::1' }, d)).toThrow(/--gateway6 needs an IPv6 address/);
  });
});

describe('traces name IPv6 connections in RFC 5952 form', () => {
  it("a connection's open event reads [fd00:7::1]:port", async () => {
    const { net, a, b } = SimNetwork.pair({ ipv6: true });
    const opens: string[] = [];
    a.stack.tcp.tracer = (r) => {
      if (r.ev === 'open') opens.push(`${String(r.local)} ${String(r.remote)}`);
    };
    const l = b.api.socket(AF_INET6, SOCK_STREAM);
    l.bind(['', 7]);
    l.listen(1);
    const c = a.api.socket(AF_INET6, SOCK_STREAM);
    await net.until(c.connect(['fd00:7::2', 7]));
    expect(opens).toEqual([`[fd00:7::1]:${c.getsockname()[1]} [fd00:7::2]:7`]);
  });
});
