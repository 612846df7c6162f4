/**
 * Loads the native addon (native/tuntap.c, built by node-gyp at `npm install`).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TunTapAddon {
  /** `offload` (TUN): virtio-net headers with checksum and TCP segmentation offload. */
  open(name: string, tap: boolean, offload?: boolean): [number, string];
  configure(name: string, addr: number, prefixLen: number, mtu: number, up: boolean): void;
  hwaddr(name: string): Buffer;
  /**
   * meta holds 3 numbers per frame: offset, length, and 1 if the kernel vouches for the
   * transport checksum. `vnet`: frames carry a virtio-net header, which the addon strips
   * (its checksum flags give that third number; the checksum itself may be partial).
   */
  startPolling(fd: number, buf: Uint8Array, meta: Int32Array, maxFrame: number, cb: (count: number, errno: number) => void, vnet?: boolean): object;
  stopPolling(handle: object, cb: () => void): void;
  writeBatch(fd: number, buf: Uint8Array, meta: Int32Array, count: number): number;
}

let cached: TunTapAddon | undefined;

/** The addon, or an error that says how to build it. */
export function loadAddon(): TunTapAddon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  // Works from src/link (tests) and from dist/src/link (the built CLI).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'build', 'Release', 'tuntap.node');
    if (existsSync(candidate)) {
      cached = require(candidate) as TunTapAddon;
      return cached;
    }
    dir = dirname(dir);
  }
  throw Object.assign(new Error('the TUN/TAP addon is not built: run `npm install` (it needs python3, make and a C compiler)'), {
    code: 'ENOADDON',
  });
}
