/**
 * A connection far into its sequence space. Sequence numbers compare modulo 2^32 (RFC 9293
 * §3.4), so "SND.UNA is at or before ISS" turns true again once 2 GiB have been sent;
 * taking that to mean "this ACK covers our SYN" left one byte of the send buffer
 * unconsumed per ACK, and the stream went on in one-byte segments resending stale data
 * at new sequence numbers (found by iperf3 -R at 32 Gbit/s: 4 GiB a second). Rather
 * than send 2 GiB through the simulator, the test moves ISS so that the connection sits
 * exactly where it would after 2 GiB.
 */
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../src/sim/sim-network.js';
import { recvToEnd } from '../helpers/sim-connection.js';
import { AF_INET, SOCK_STREAM } from '../../src/socket/constants.js';

describe('a stream more than 2 GiB into its sequence space', () => {
  for (const at of [2 ** 31 - 64 * 1024, 2 ** 31 + 4096, 2 ** 32 - 4096]) {
    it(`sends every byte intact and at full size ${at} bytes after ISS`, async () => {
      const { net, a, b } = SimNetwork.pair({ tcp: { sack: true, timestamps: true } });
      const l = b.api.socket(AF_INET, SOCK_STREAM);
      l.bind(['', 9]);
      l.listen(1);
      const c = a.api.socket(AF_INET, SOCK_STREAM);
      const accepted = l.accept();
      await net.until(c.connect(['10.7.0.2', 9]));
      const [s] = await net.until(accepted);
      const snd = c.conn!.snd;
      // As if `at` bytes had been sent and acknowledged already.
      snd.iss = (snd.una - at) >>> 0;
      const data = new Uint8Array(600_000).map((_, i) => (i * 31 + (i >> 9)) & 255);
      const sent = c.sendall(data).then(() => c.shutdown(1));
      const got = await recvToEnd(net, s);
            await net.until(sent);
      expect(got.equals(Buffer.from(data))).toBe(true);
      // Full-sized segments, not one byte per round trip.
      expect(c.conn!.stats.segsOut).toBeLessThan(1000);
    });
  }
});
