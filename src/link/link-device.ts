/**
 * The narrow interface between a device that moves frames and the stack above it
 * (gVisor's LinkEndpoint, smoltcp's phy::Device). A TUN device carries bare IPv4
 * packets (`medium: 'ip'`); a TAP device carries Ethernet II frames (`'ethernet'`).
 */
export type Medium = 'ip' | 'ethernet';

/** Where a device hands the frames it receives: one call per frame, then one per batch. */
export interface LinkReceiver {
  /**
   * One frame in `b[off, off+len)`; valid only during the call. `checksumOk`: the
   * device vouches for the transport checksum (receive checksum offload), so the
   * stack need not verify it.
   */
  frame(b: Uint8Array, off: number, len: number, checksumOk?: boolean): void;
  /** The batch that the preceding frame() calls belong to is complete. */
  batchEnd(): void;
}

/**
 * A device that moves frames for a stack: implement it to put a stack on a link of your
 * own (`createStack({ link })`). Frames go out with `send` and `flush`, and come in
 * through the LinkReceiver the stack sets, in batches.
 */
export interface LinkDevice {
  /** The device's name, for messages (e.g. `'tcpip0'`). */
  readonly name: string;
  /** What a frame is: a bare IPv4 packet (`'ip'`) or an Ethernet II frame (`'ethernet'`). */
  readonly medium: Medium;
  /** The largest IP datagram the device carries (the interface MTU). */
  readonly mtu: number;
  /** Our own hardware address on an Ethernet medium. */
  readonly mac: Uint8Array | null;
  /**
   * The device takes TCP segments with a partial checksum (the pseudo-header sum only)
   * and longer than the MTU, and finishes and cuts them itself (checksum and TCP
   * segmentation offload, as a NIC or the kernel's virtio-net/TUN offers). Frames are
   * bare IPv4 then.
   */
  readonly tcpOffload?: boolean;
  /**
   * Queues one frame; its bytes are copied before this returns. `tso` > 0 (only on a
   * `tcpOffload` device) marks a TCP segment whose checksum is partial, to be cut into
   * segments of `tso` payload bytes if longer.
   */
  send(b: Uint8Array, off: number, len: number, tso?: number): void;
  /**
   * Optional: a buffer the stack may build its next frame in, so that `send` need not
   * copy it (the frame's bytes are then copied once, from the socket's buffer into the
   * frame the device writes). The stack builds the frame at LINK_HEADROOM (24) bytes or
   * more from the buffer's start (room for a header of the device's own) and passes this
   * same buffer to `send`; it asks again after every `send`, as the next frame goes in
   * another slot. The buffer is at least TX_PAYLOAD_OFFSET + 65535 bytes long.
   */
  txSlot?(): Uint8Array;
  /** Writes the queued frames out (one batch). */
  flush(): void;
  /** Sets where received frames go (the runtime sets it when it starts; a later call replaces it). */
  setReceiver(rx: LinkReceiver): void;
  /** Devices that hold frames for later (delay) say when, and release them in poll(). */
  poll?(now: number): void;
  /** When `poll` is next due (ms, on the stack's clock), or undefined if nothing is held. */
  pollAt?(): number | undefined;
  /**
   * Whether this device's reading keeps the Node process alive (Node's ref/unref); the
   * runtime turns it off while no socket or server of the stack wants the process kept.
   * Devices with nothing that holds the event loop need not implement it.
   */
  ref?(keepAlive: boolean): void;
  /** Closes the device; resolves when it is closed. */
  close(): Promise<void>;
}
