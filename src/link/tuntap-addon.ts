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
  configure(name: string, addr: number, prefixLen: number, mtu: number, up: boolean, txQueueLen?: number): void;
  /** Adds an IPv6 address (16 bytes) with its prefix length to the device's kernel side. */
  configure6(name: string, addr: Uint8Array, prefixLen: number): void;
  hwaddr(name: string): Buffer;
  /**
   * meta holds 3 numbers per frame: offset, length, and 1 if the kernel vouches for the
   * transport checksum. `vnet`: frames carry a virtio-net header, which the addon strips
   * (its checksum flags give that third number; the checksum itself may be partial).
   */
  startPolling(fd: number, buf: Uint8Array, meta: Int32Array, maxFrame: number, cb: (count: number, errno: number) => void, vnet?: boolean): object;
  stopPolling(handle: object, cb: () => void): void;
  writeBatch(fd: number, buf: Uint8Array, meta: Int32Array, count: number): number;
  /** Whether the fd watcher keeps the Node process alive (uv_ref / uv_unref). */
  setRef(handle: object, ref: boolean): void;
}

let cached: TunTapAddon | undefined;

/** Where a prebuilt addon for this platform lies in the package (the prebuildify layout). */
export const PREBUILD_NAME = 'tcpip-ts.napi.node';

/**
 * The addon: a local build (`build/Release/tuntap.node`, made at install where a C
 * compiler is at hand) first, then the prebuilt binary the package ships for this
 * platform (`prebuilds/linux-x64/tcpip-ts.napi.node`). Neither: an error (code
 * ENOADDON) saying what to install. Only opening a device needs it; the simulator and
 * every in-memory link work without.
 */
export function loadAddon(): TunTapAddon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  const failures: string[] = [];
  // Works from src/link (tests) and from dist/src/link (the built package).
  let dir = dirname(fileURLToPath(import.meta.url));
  const candidates: string[] = [];
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) {
      candidates.push(join(dir, 'build', 'Release', 'tuntap.node'));
      candidates.push(join(dir, 'prebuilds', `${process.platform}-${process.arch}`, PREBUILD_NAME));
      break;
    }
    dir = dirname(dir);
  }
  for (const candidate of candidates) {
    if (!existsSync(candidate)) continue;
    tried.push(candidate);
    try {
      cached = require(candidate) as TunTapAddon;
      return cached;
    } catch (e) {
      failures.push(`${candidate}: ${(e as Error).message}`);
    }
  }
  const why = failures.length > 0 ? `it failed to load (${failures.join('; ')})` : `no build and no prebuilt binary for ${process.platform}-${process.arch} was found`;
  throw Object.assign(
    new Error(
      `the TUN/TAP addon is not available: ${why}. Opening a device needs it (the simulator does not). ` +
        'Install python3, make and a C compiler (Debian: apt-get install python3 make g++), then run `npm rebuild tcpip-ts` ' +
        '(in a checkout of the repository: `npm install`).',
    ),
    { code: 'ENOADDON', tried },
  );
}
