/**
 * DNS messages (RFC 1035 §4), only as far as a stub resolver needs them: a query for
 * the A records of one name, and the answer to it, read defensively (every length and
 * pointer checked; a malformed answer is an error, never a crash or a hang).
 *
 *   Header   ID | QR Opcode AA TC RD RA Z RCODE | QDCOUNT | ANCOUNT | NSCOUNT | ARCOUNT
 *   Question QNAME QTYPE QCLASS
 *   Answer   NAME TYPE CLASS TTL RDLENGTH RDATA
 */
import { readU16, readU32, writeU16 } from '../core/bytes.js';

export const DNS_PORT = 53;
export const TYPE_A = 1;
export const TYPE_CNAME = 5;
export const CLASS_IN = 1;
/** RCODEs (RFC 1035 §4.1.1). */
export const RCODE_NOERROR = 0;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
/** A UDP answer is at most 512 bytes without EDNS (RFC 1035 §2.3.4); we read up to this. */
export const MAX_UDP_MESSAGE = 4096;
const HEADER_LEN = 12;
/** RFC 1035 §2.3.4: a name is at most 255 bytes, a label 63. */
const MAX_NAME = 255;
const MAX_LABEL = 63;
/** CNAME hops followed in one answer before giving up (a loop, or a silly chain). */
const MAX_CNAME_HOPS = 8;

/** Is `name` a name a query can carry (RFC 1123 §2.1 labels, RFC 1035 lengths)? Trailing dot allowed. */
export function isValidName(name: string): boolean {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n.length === 0 || n.length > MAX_NAME - 2) return false;
  return n.split('.').every((l) => l.length > 0 && l.length <= MAX_LABEL && /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$/.test(l));
}

/** A query (RD set) for the A records of `name`, with identifier `id`. */
export function encodeQuery(id: number, name: string): Uint8Array {
  const labels = (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
  const qlen = labels.reduce((n, l) => n + 1 + l.length, 1);
  const b = new Uint8Array(HEADER_LEN + qlen + 4);
  writeU16(b, 0, id);
  b[2] = 0x01; // RD: recursion desired (a stub asks its server to do the work)
  writeU16(b, 4, 1); // QDCOUNT
  let o = HEADER_LEN;
  for (const l of labels) {
    b[o++] = l.length;
    for (let i = 0; i < l.length; i++) b[o++] = l.charCodeAt(i);
  }
  b[o++] = 0;
  writeU16(b, o, TYPE_A);
  writeU16(b, o + 2, CLASS_IN);
  return b;
}

export type DnsAnswer =
  | { kind: 'addresses'; addresses: number[]; ttl: number }
  /** NXDOMAIN, or NOERROR with no A record for the name (the name exists, has no address). */
  | { kind: 'noname' }
  /** A server failure or refusal: another server, or a retry, may do better. */
  | { kind: 'servfail'; rcode: number };

/** Why a message is not the answer to our query (it is then ignored, RFC 5452 §9.1). */
export type DnsMismatch = 'malformed' | 'notResponse' | 'wrongId' | 'wrongQuestion';

/**
 * Reads the answer to our query `id` for `name`: the A records for the name, following
 * CNAMEs within the answer. Returns why it is not an answer to that query otherwise.
 */
export function parseAnswer(b: Uint8Array, id: number, name: string): DnsAnswer | DnsMismatch {
  if (b.length < HEADER_LEN) return 'malformed';
  if (readU16(b, 0) !== id) return 'wrongId';
  const flags = readU16(b, 2);
  if ((flags & 0x8000) === 0) return 'notResponse';
  if (((flags >> 11) & 0xf) !== 0) return 'malformed'; // opcode QUERY only
  const rcode = flags & 0xf;
  const qd = readU16(b, 4);
  const an = readU16(b, 6);
  if (qd !== 1) return 'wrongQuestion';
  // The question must be ours (RFC 5452 §9.1: id, question, and the server's address and port).
  const q = readName(b, HEADER_LEN);
  if (q === null || q.end + 4 > b.length) return 'malformed';
  if (!sameName(q.name, name) || readU16(b, q.end) !== TYPE_A || readU16(b, q.end + 2) !== CLASS_IN) return 'wrongQuestion';
  if (rcode === RCODE_NXDOMAIN) return { kind: 'noname' };
  if (rcode !== RCODE_NOERROR) return { kind: 'servfail', rcode };
  // Answers: A records for the name, or for what a CNAME there points to.
  let o = q.end + 4;
  const cnames = new Map<string, string>();
  const addrs = new Map<string, { addr: number; ttl: number }[]>();
  for (let i = 0; i < an; i++) {
    const owner = readName(b, o);
    if (owner === null || owner.end + 10 > b.length) return 'malformed';
    const type = readU16(b, owner.end);
    const cls = readU16(b, owner.end + 2);
    const ttl = readU32(b, owner.end + 4);
    const rdlen = readU16(b, owner.end + 8);
    const rd = owner.end + 10;
    if (rd + rdlen > b.length) return 'malformed';
    const key = owner.name.toLowerCase();
    if (cls === CLASS_IN && type === TYPE_A) {
      if (rdlen !== 4) return 'malformed';
      const list = addrs.get(key) ?? [];
      list.push({ addr: readU32(b, rd), ttl });
      addrs.set(key, list);
    } else if (cls === CLASS_IN && type === TYPE_CNAME) {
      const target = readName(b, rd);
      if (target === null || target.end > rd + rdlen) return 'malformed';
      cnames.set(key, target.name.toLowerCase());
    }
    o = rd + rdlen;
  }
  let cur = trimDot(name).toLowerCase();
  for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
    const found = addrs.get(cur);
    if (found && found.length > 0) return { kind: 'addresses', addresses: found.map((x) => x.addr), ttl: Math.min(...found.map((x) => x.ttl)) };
    const next = cnames.get(cur);
    if (next === undefined) break;
    cur = next;
  }
  return { kind: 'noname' };
}

function trimDot(n: string): string {
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

function sameName(a: string, b: string): boolean {
  return trimDot(a).toLowerCase() === trimDot(b).toLowerCase();
}

/**
 * A (possibly compressed, RFC 1035 §4.1.4) name at `o`: its text and where the field
 * ends. Null when it is malformed: past the end, a label over 63 bytes, a name over 255,
 * or a pointer that does not point backwards (which is how loops are refused).
 */
function readName(b: Uint8Array, o: number): { name: string; end: number } | null {
  const labels: string[] = [];
  let len = 0;
  let end = -1;
  let at = o;
  let limit = o; // pointers must go strictly below where the name started
  for (;;) {
    if (at >= b.length) return null;
    const l = b[at]!;
    if ((l & 0xc0) === 0xc0) {
      if (at + 1 >= b.length) return null;
      const ptr = ((l & 0x3f) << 8) | b[at + 1]!;
      if (end < 0) end = at + 2;
      if (ptr >= limit) return null;
      limit = ptr;
      at = ptr;
      continue;
    }
    if ((l & 0xc0) !== 0) return null; // the reserved label types
    if (l === 0) {
      if (end < 0) end = at + 1;
      return { name: labels.join('.'), end };
    }
    if (l > MAX_LABEL || at + 1 + l > b.length) return null;
    len += l + 1;
    if (len > MAX_NAME) return null;
    let s = '';
    for (let i = 0; i < l; i++) s += String.fromCharCode(b[at + 1 + i]!);
    labels.push(s);
    at += 1 + l;
  }
}
