/**
 * A Linux TUN (IP packets) or TAP (Ethernet frames) device, through our addon.
 *
 * Receiving: the addon watches the non-blocking fd with uv_poll and, per wake-up, reads
 * up to `batch` frames into one buffer we lend it, then calls us once; we hand each frame
 * to the receiver as a view into that buffer (no copy, no allocation).
 * Sending: the batch buffer is `batch` slots; the stack builds each frame in the next
 * slot (`txSlot()`, one copy per byte: from the socket's buffer into the frame), or
 * `send()` copies a frame built elsewhere into it; `flush()` writes the batch with one
 * native call. A full batch is flushed on its own.
 */
import { ETH_HEADER_LEN } from './ethernet-frame.js';
import { TX_PAYLOAD_OFFSET } from '../ip/ipv4-layer.js';
import { writeFileSync } from 'node:fs';
import { writeIpv6, type Ipv6Addr } from '../ip/ipv6-address.js';
import { closeSync, readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { logger } from '../core/log.js';
import { formatIpv4 } from '../ip/address.js';
import type { LinkDevice, LinkReceiver, Medium } from './link-device.js';
import { loadAddon, type TunTapAddon } from './tuntap-addon.js';

const log = logger('link');

/** Options of `TunDevice.open`. */
export interface TunOptions {
  /** The device's name, e.g. `'tcpip0'`: created, or attached to if it exists. */
  name: string;
  /** `'ip'` for a TUN device (bare IPv4 packets), `'ethernet'` for a TAP device. */
  medium: Medium;
  /** The MTU to configure; with `configure: false` the device's own MTU is used instead. */
  mtu: number;
  /** Kernel-side address and prefix to configure on the device (optional). */
  kernelAddr?: number;
  /** Kernel-side IPv6 address to configure (optional). */
  kernelAddr6?: Ipv6Addr;
  /** Its prefix length (default 64). */
  prefixLen6?: number;
  /** The kernel-side address's prefix length; default 24. */
  prefixLen?: number;
  /** Frames per read batch and per write batch. */
  batch?: number;
  /** Our own MAC (TAP); default: a locally administered address from `macSeed`. */
  mac?: Uint8Array;
  /**
   * Checksum and TCP segmentation offload through virtio-net headers, on TUN and TAP
   * (IFF_VNET_HDR, TUNSETOFFLOAD). The kernel then sends us TCP segments of up to 64 KiB
   * and takes ours as large (cutting them to the MTU if it forwards them; delivered
   * locally, they are taken whole), as it does for a virtio NIC.
   */
  offload?: boolean;
  /**
   * Configure the device (kernel-side address, MTU, up), which needs CAP_NET_ADMIN; the
   * default. `false` attaches to an existing persistent device as it is (made with
   * `ip tuntap add dev NAME mode tun user USER` and configured by its owner): no
   * privilege is needed then if the device belongs to this user, and the MTU is read
   * from the device.
   */
  configure?: boolean;
  /** The kernel's queue of packets waiting for us (txqueuelen; the kernel's default is 500). */
  txQueueLen?: number;
}

/** Reads an interface attribute from sysfs (null if the interface does not exist). */
function sysfs(name: string, attr: string): string | null {
  try {
    return readFileSync(`/sys/class/net/${name}/${attr}`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Adds what a user can do about a permission error to the addon's message. */
function explainPermission(e: unknown, name: string, step: 'open' | 'configure'): unknown {
  const code = (e as { code?: string }).code;
  if (code !== 'EPERM' && code !== 'EACCES') return e;
  const err = e as Error;
  err.message +=
    step === 'open'
      ? `. Creating a TUN/TAP device needs CAP_NET_ADMIN (run as root). To run unprivileged, have root create a persistent device you own (ip tuntap add dev ${name} mode tun user $USER; then configure it with ip addr/ip link) and attach with configure: false (--configure off).`
      : `. Setting the device's address, MTU and link state needs CAP_NET_ADMIN: run as root, or configure the device beforehand and attach with configure: false (--configure off).`;
  return err;
}

/** struct virtio_net_hdr (linux/virtio_net.h): 10 bytes before every frame when offloading. */
const VNET_HDR_LEN = 10;
const VNET_F_NEEDS_CSUM = 1;
const VNET_GSO_NONE = 0;
const VNET_GSO_TCPV4 = 1;
const VNET_GSO_TCPV6 = 4;
/** TCP's checksum field, from the start of its header. */
const TCP_CSUM_OFFSET = 16;

/** What a TunDevice has moved since it was opened. */
export interface TunDeviceCounters {
  /** Frames read from the device. */
  framesIn: number;
  /** Frames the kernel took. */
  framesOut: number;
  /** Reads that delivered frames (one batch each). */
  batchesIn: number;
  /** Batch writes (one per flush with frames queued). */
  batchesOut: number;
  /** Frames sent that the device copied into its batch (the rest were built in its slot: `txSlot`). */
  framesCopied: number;
  /** Frames not written: too long for the device, or refused by the kernel. */
  writeErrors: number;
  /** Reads that failed with an error other than EAGAIN. */
  readErrors: number;
}

/**
 * A Linux TUN or TAP device through the native addon, as a LinkDevice. Frames are read
 * and written in batches (one system call each way); `openTun` opens one for you.
 */
export class TunDevice implements LinkDevice {
  /** The device's name as the kernel has it. */
  readonly name: string;
  readonly medium: Medium;
  readonly mtu: number;
  readonly mac: Uint8Array | null;
  /** The kernel side's MAC (TAP), for display. */
  readonly kernelMac: Uint8Array | null;
  readonly tcpOffload: boolean;
  /** Frames and batches in and out, and errors. */
  readonly counters: TunDeviceCounters = { framesIn: 0, framesOut: 0, batchesIn: 0, batchesOut: 0, framesCopied: 0, writeErrors: 0, readErrors: 0 };
  private readonly addon: TunTapAddon;
  private readonly fd: number;
  private readonly maxFrame: number;
  private readonly rxBuf: Uint8Array;
  /** Link header in front of the IP header: 14 on TAP (Ethernet), 0 on TUN. */
  private readonly l2: number;
  private readonly rxMeta: Int32Array;
  private readonly txBuf: Uint8Array;
  private readonly txMeta: Int32Array;
  /** The batch's slots: views of txBuf `txStride` apart, each TX_PAYLOAD_OFFSET + 65535 long (they overlap the next ones). */
  private readonly txSlots: Uint8Array[];
  private readonly txStride: number;
  private txCount = 0;
  /** txSlots[txCount]: where the next frame goes. */
  private slot: Uint8Array;
  private handle: object | null = null;
  private receiver: LinkReceiver | null = null;
  private closing: Promise<void> | null = null;
  private keepAlive = true;
  /** Called with the error when a read fails (not EAGAIN). */
  onError: (err: Error) => void = (err) => log(`read error: ${err.message}`);

  private constructor(opts: TunOptions, addon: TunTapAddon, fd: number, name: string, mac: Uint8Array | null, kernelMac: Uint8Array | null) {
    this.addon = addon;
    this.fd = fd;
    this.name = name;
    this.medium = opts.medium;
    this.mtu = opts.mtu;
    this.mac = mac;
    this.kernelMac = kernelMac;
    this.tcpOffload = opts.offload === true;
    this.l2 = opts.medium === 'ethernet' ? ETH_HEADER_LEN : 0;
    const batch = opts.batch ?? 64;
    // With offload a frame is a virtio-net header and an IP packet of up to 64 KiB (on
    // TAP inside an Ethernet frame).
    this.maxFrame = this.tcpOffload ? VNET_HDR_LEN + this.l2 + 65535 : opts.mtu + (opts.medium === 'ethernet' ? 18 : 0);
    const slot = (this.maxFrame + 7) & ~7;
    this.rxBuf = new Uint8Array(slot * batch);
    this.rxMeta = new Int32Array(3 * batch); // offset, length, checksum vouched for
    // A transmit slot holds a frame built by the stack (its payload at TX_PAYLOAD_OFFSET,
    // with room in front for the virtio-net header) or one copied in (at the slot's start).
    // A frame longer than the MTU leaves the stack only as an offloaded segment, so
    // without offload the slots are MTU-sized; a view still reaches 64 KiB past its start
    // (into the next slots, unused yet) for a datagram the IP layer will fragment.
    const view = TX_PAYLOAD_OFFSET + 65535;
    this.txStride = (Math.max(TX_PAYLOAD_OFFSET + (this.tcpOffload ? 65535 : opts.mtu), VNET_HDR_LEN + this.maxFrame) + 7) & ~7;
    this.txBuf = new Uint8Array(this.txStride * (batch - 1) + Math.max(view, this.txStride));
    this.txSlots = Array.from({ length: batch }, (_, i) => this.txBuf.subarray(i * this.txStride, i * this.txStride + view));
    this.slot = this.txSlots[0]!;
    this.txMeta = new Int32Array(2 * batch);
  }

  /** Creates (or attaches to) the device, configures its kernel side and brings it up. */
  static open(opts: TunOptions): TunDevice {
    const addon = loadAddon();
    const configure = opts.configure !== false;
    if (!configure) {
      // Attach as it is: the device must exist, be up, and its MTU is what it is.
      const mtu = sysfs(opts.name, 'mtu');
      if (mtu === null) throw Object.assign(new Error(`attach to ${opts.name}: no such device (configure: false needs an existing persistent device: ip tuntap add dev ${opts.name} mode ${opts.medium === 'ip' ? 'tun' : 'tap'} user $USER)`), { code: 'ENODEV' });
      const flags = Number(sysfs(opts.name, 'flags') ?? '0');
      if ((flags & 1) === 0) throw Object.assign(new Error(`attach to ${opts.name}: the device is down (ip link set ${opts.name} up)`), { code: 'ENETDOWN' });
      opts = { ...opts, mtu: Number(mtu) };
    }
    if (opts.mtu < 68 || opts.mtu > 65535) throw new RangeError(`MTU ${opts.mtu} is outside 68..65535`);
    // Offload: little-endian hosts only (we write the virtio-net header in that order), and
    // if the kernel refuses it we carry on without, saying so.
    let offload = opts.offload === true && endianness() === 'LE';
    let fd: number;
    let name: string;
    try {
      [fd, name] = addon.open(opts.name, opts.medium === 'ethernet', offload);
    } catch (e) {
      if (!offload || (e as { code?: string }).code === 'EPERM' || (e as { code?: string }).code === 'EACCES') throw explainPermission(e, opts.name, 'open');
      log(`offload refused for ${opts.name} (${(e as Error).message}): going on without it`);
      offload = false;
      [fd, name] = addon.open(opts.name, opts.medium === 'ethernet', false);
    }
    opts = { ...opts, offload };
    try {
      try {
        if (configure) {
          if (opts.kernelAddr6 !== undefined) {
            // The kernel side needs no duplicate address detection on a link it shares
            // with the stack alone (the stack runs its own on TAP): usable at once.
            try {
              writeFileSync(`/proc/sys/net/ipv6/conf/${name}/accept_dad`, '0');
            } catch {
              // no IPv6 sysctl here: DAD then runs, and the address is usable a second later
            }
          }
          addon.configure(name, opts.kernelAddr ?? 0, opts.prefixLen ?? 24, opts.mtu, true, opts.txQueueLen ?? 0);
          if (opts.kernelAddr6 !== undefined) {
            const a = new Uint8Array(16);
            writeIpv6(a, 0, opts.kernelAddr6);
            try {
              addon.configure6(name, Buffer.from(a), opts.prefixLen6 ?? 64);
            } catch (e) {
              // A persistent device keeps its address from an earlier run.
              if ((e as { code?: string }).code !== 'EEXIST') throw e;
            }
          }
        }
      } catch (e) {
        throw explainPermission(e, name, 'configure');
      }
      let mac: Uint8Array | null = null;
      let kernelMac: Uint8Array | null = null;
      if (opts.medium === 'ethernet') {
        kernelMac = new Uint8Array(addon.hwaddr(name));
        mac = opts.mac ?? null;
        if (!mac) {
          // A locally administered unicast address (bit 1 set, bit 0 clear), distinct
          // from the kernel side's.
          mac = kernelMac.slice();
          mac[0] = 0x02;
          mac[5] = (mac[5]! ^ 0x01) & 0xff;
        }
      }
      const dev = new TunDevice(opts, addon, fd, name, mac, kernelMac);
      if (log.enabled) log(`opened ${name} (${opts.medium}, mtu ${opts.mtu}${opts.kernelAddr ? `, kernel side ${formatIpv4(opts.kernelAddr)}/${opts.prefixLen ?? 24}` : ''})`);
      return dev;
    } catch (e) {
      closeSync(fd); // the device is not persistent: it goes with its last fd
      throw e;
    }
  }

  /** Sets where received frames go and, the first time, starts reading the device. */
  setReceiver(rx: LinkReceiver): void {
    this.receiver = rx;
    if (this.handle === null) {
      this.handle = this.addon.startPolling(this.fd, this.rxBuf, this.rxMeta, this.maxFrame, (count, errno) => this.onBatch(count, errno), this.tcpOffload);
      if (!this.keepAlive) this.addon.setRef(this.handle, false);
    }
  }

  /** Whether reading this device keeps the Node process alive (on by default). */
  ref(keepAlive: boolean): void {
    this.keepAlive = keepAlive;
    if (this.handle !== null && !this.closing) this.addon.setRef(this.handle, keepAlive);
  }

  private onBatch(count: number, errno: number): void {
    if (errno !== 0) {
      this.counters.readErrors++;
      this.onError(new Error(`read from ${this.name} failed (errno ${errno})`));
    }
    if (count === 0 || this.receiver === null) return;
    this.counters.batchesIn++;
    this.counters.framesIn += count;
    const rx = this.receiver;
    const meta = this.rxMeta;
    for (let i = 0; i < count; i++) rx.frame(this.rxBuf, meta[3 * i]!, meta[3 * i + 1]!, meta[3 * i + 2] === 1);
    rx.batchEnd();
  }

  send(b: Uint8Array, off: number, len: number, tso = 0): void {
    const hdr = this.tcpOffload ? VNET_HDR_LEN : 0;
    // Only an offloaded TCP segment may exceed the MTU (the kernel cuts it).
    const limit = tso > 0 ? this.l2 + 65535 : this.tcpOffload ? this.l2 + this.mtu : this.maxFrame;
    if (len > limit) {
      this.counters.writeErrors++;
      return;
    }
    const t = this.txBuf;
    const base = this.txCount * this.txStride;
    let at: number; // where the frame starts in txBuf
    if (b === this.slot && off >= hdr) {
      at = base + off; // built in place: no copy
    } else {
      at = base + hdr;
      t.set(b.subarray(off, off + len), at);
      this.counters.framesCopied++;
    }
    if (hdr > 0) this.writeVnetHeader(t, at - hdr, t, at, len, tso);
    this.txMeta[2 * this.txCount] = at - hdr;
    this.txMeta[2 * this.txCount + 1] = hdr + len;
    this.txCount++;
    if (this.txCount === this.txSlots.length) this.flush();
    else this.slot = this.txSlots[this.txCount]!;
  }

  /** The slot the next frame goes in (see LinkDevice.txSlot). */
  txSlot(): Uint8Array {
    return this.slot;
  }

  /**
   * The virtio-net header in front of a frame (little-endian: the legacy header is in
   * host order, and offload is only turned on for little-endian hosts, see open()): none of its offloads for an ordinary packet; for a TCP segment with `tso`,
   * "finish the checksum from the TCP header on" and, if it is longer than one segment,
   * "cut it into `tso`-byte TCPv4 (or TCPv6) segments".
   */
  private writeVnetHeader(t: Uint8Array, at: number, b: Uint8Array, off: number, len: number, tso: number): void {
    t.fill(0, at, at + VNET_HDR_LEN);
    if (tso === 0) return;
    // On TAP the IP header follows the 14-byte Ethernet header. (IPv6: our TCP segments
    // carry no extension headers, so TCP starts at 40.)
    const ip = off + this.l2;
    const v6 = b[ip]! >> 4 === 6;
    const ihl = v6 ? 40 : (b[ip]! & 0x0f) * 4;
    const thl = (b[ip + ihl + 12]! >> 4) * 4;
    const headers = this.l2 + ihl + thl;
    t[at] = VNET_F_NEEDS_CSUM;
    if (len - headers > tso) {
      // Segmentation wanted: header length and segment size (zero otherwise, as Linux's
      // own virtio driver leaves them).
      t[at + 1] = v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4;
      t[at + 2] = headers & 0xff;
      t[at + 3] = headers >> 8;
      t[at + 4] = tso & 0xff;
      t[at + 5] = tso >> 8;
    } else {
      t[at + 1] = VNET_GSO_NONE;
    }
    t[at + 6] = this.l2 + ihl; // csum_start: where TCP begins in the frame
    t[at + 8] = TCP_CSUM_OFFSET;
  }

  flush(): void {
    if (this.txCount === 0) return;
    if (this.closing) {
      this.counters.writeErrors += this.txCount; // the device is closing: not written
    } else {
      const n = this.addon.writeBatch(this.fd, this.txBuf, this.txMeta, this.txCount);
      this.counters.batchesOut++;
      if (n >= 0) {
        this.counters.framesOut += n;
        this.counters.writeErrors += this.txCount - n;
      } else {
        this.counters.writeErrors += this.txCount;
      }
    }
    this.txCount = 0;
    this.slot = this.txSlots[0]!;
  }

  /** Flushes, stops reading and closes the fd (the kernel then removes the device unless it is persistent). */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.flush();
    this.closing = new Promise<void>((resolve) => {
      if (this.handle === null) {
        // Never polled: close the fd through a throwaway watcher so the addon owns closing.
        this.handle = this.addon.startPolling(this.fd, this.rxBuf, this.rxMeta, this.maxFrame, () => {});
      }
      this.addon.stopPolling(this.handle, () => resolve());
    });
    return this.closing;
  }
}
