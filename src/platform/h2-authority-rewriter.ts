// The client→server byte processor of the :authority shim (h2-authority-shim.ts owns the sockets).
//
// Why: Go's clientv3 3.4 dials some endpoints as written, so its HTTP/2 requests can carry
// `:authority: http://127.0.0.1:2379`. Go's server takes that; node's nghttp2 checks :authority (and
// host) against RFC 3986's authority characters and resets the stream with PROTOCOL_ERROR before
// node sees it, and node has no option to turn that off.
//
// What it does, per connection: checks the 24-byte client preface, answers it with an empty
// SETTINGS frame of its own (clients such as grpc-go send no request before the server's SETTINGS,
// and node's session is not started until the shim has decided), walks the frames up to the first
// complete header block and HPACK-decodes it. Then, for good:
// - pass-through, when that block's :authority and host are acceptable to nghttp2: every byte goes
//   on as is. The client's first SETTINGS ACK answers our SETTINGS, not nghttp2's, so it is dropped;
//   once it has been, the shim has nothing left to do and the socket is handed to node itself.
// - rewrite, otherwise: every header block from then on is decoded (the decoder's dynamic table
//   kept in step with the client's encoder) and re-encoded as literals without indexing, so
//   nghttp2's dynamic table is never referenced; :authority and host become host:port (scheme and
//   path stripped, other bad bytes percent-encoded). Other frames pass through unchanged.
// Until node's session runs, the shim answers PINGs itself and drops them.
//
// Anything malformed (bad preface, oversized or misplaced frames, bad padding, HPACK errors) turns
// the processor into plain pass-through from that byte on: nghttp2 then rejects the connection as
// it would have without the shim. Nothing here throws on input.
import { Buffer } from 'node:buffer';
import {
  DEFAULT_HEADER_TABLE_SIZE,
  encodeLiteralHeaderList,
  HpackDecoder,
  type HeaderList,
} from './hpack.js';

export const CLIENT_PREFACE: Buffer = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME_HEADER_BYTES = 9;
/** SETTINGS_MAX_FRAME_SIZE's initial value (RFC 9113 §6.5.2); node's session keeps it. */
export const DEFAULT_MAX_FRAME_BYTES = 16_384;
/** Most compressed header-block bytes held while a block is assembled. */
const MAX_HEADER_BLOCK_BYTES = 1 << 20;
/** Most bytes read before the first header block decides the mode (PINGs, SETTINGS, ...). */
const MAX_SNIFF_BYTES = 1 << 20;

const T = { HEADERS: 0x1, SETTINGS: 0x4, PUSH_PROMISE: 0x5, PING: 0x6, CONTINUATION: 0x9 } as const;
const F = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

/** The server preface the shim sends: an empty SETTINGS frame (all settings at their defaults). */
export const EMPTY_SETTINGS: Buffer = Buffer.from([0, 0, 0, T.SETTINGS, 0, 0, 0, 0, 0]);

export type ShimMode = 'sniff' | 'pass-through' | 'rewrite';

export interface RewriterOutput {
  /** Bytes for node's HTTP/2 session, in order. */
  toServer(bytes: Buffer): void;
  /** Bytes the shim answers the client with itself (its SETTINGS, PING ACKs). */
  toClient(bytes: Buffer): void;
}

interface OpenBlock {
  streamId: number;
  /** The HEADERS frame's END_STREAM and PRIORITY flags. */
  flags: number;
  priority: Buffer | null;
  fragments: Buffer[];
  /** The frames as received, for when the block goes on unchanged. */
  frames: Buffer[];
  bytes: number;
}

// nghttp2_check_authority's characters: RFC 3986 unreserved, sub-delims, ':', '@', '[', ']', '%'.
const AUTHORITY_OK = new Uint8Array(256);
for (const c of "!$%&'()*+,-.0123456789:;=@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]_abcdefghijklmnopqrstuvwxyz~")
  AUTHORITY_OK[c.charCodeAt(0)] = 1;

/** True when nghttp2 accepts `value` (a latin1 string) as :authority or host. */
export function isAuthorityAcceptable(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (AUTHORITY_OK[value.charCodeAt(i) & 0xff] !== 1) return false;
  return true;
}

/** `scheme://host:port/path` → `host:port`; other bytes nghttp2 refuses are percent-encoded. */
export function reduceAuthority(value: string): string {
  let v = value;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(v);
  if (scheme !== null) v = v.slice(scheme[0].length);
  const end = v.search(/[/?#]/);
  if (end >= 0) v = v.slice(0, end);
  if (isAuthorityAcceptable(v)) return v;
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i) & 0xff;
    out += AUTHORITY_OK[c] === 1 ? v[i] : '%' + c.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function isAuthorityName(name: string): boolean {
  return name === ':authority' || name === 'host';
}

export class AuthorityRewriter {
  private modeNow: ShimMode = 'sniff';
  private rawNow = false;
  private prefaceSeen = false;
  private ackDropped = false;
  private carry: Buffer | null = null;
  private rawRemaining = 0;
  private block: OpenBlock | null = null;
  private decoder: HpackDecoder | null;
  private sniffedBytes = 0;

  constructor(
    private readonly out: RewriterOutput,
    private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
    headerTableSize = DEFAULT_HEADER_TABLE_SIZE,
  ) {
    this.decoder = new HpackDecoder(headerTableSize);
  }

  /** 'sniff' until the first header block is complete; then pass-through or rewrite for good. */
  get mode(): ShimMode {
    return this.modeNow;
  }

  /** True once every further byte goes on unchanged (pass-through settled, or malformed input). */
  get raw(): boolean {
    return this.rawNow;
  }

  /** True while nothing of a request has arrived: no header block, not even part of one. */
  get idle(): boolean {
    return this.prefaceSeen && !this.rawNow && this.modeNow === 'sniff' && this.block === null;
  }

  /** Processes the next bytes from the client. */
  push(chunk: Buffer): void {
    let data = chunk;
    if (this.carry !== null) {
      data = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    let p = 0;
    while (p < data.length) {
      if (this.rawNow) {
        this.out.toServer(p === 0 ? data : data.subarray(p));
        return;
      }
      let used: number;
      if (this.rawRemaining > 0) {
        used = Math.min(this.rawRemaining, data.length - p);
        this.out.toServer(data.subarray(p, p + used));
        this.rawRemaining -= used;
      } else {
        used = this.prefaceSeen ? this.frame(data, p) : this.preface(data, p);
        if (used === 0 && !this.rawNow) {
          this.carry = data.subarray(p);
          return;
        }
      }
      p += used;
      // Before node's session runs, everything read is held in memory: bound it.
      if (this.modeNow !== 'rewrite' && (this.sniffedBytes += used) > MAX_SNIFF_BYTES) this.fallBack();
    }
  }

  private preface(data: Buffer, p: number): number {
    const n = Math.min(CLIENT_PREFACE.length, data.length - p);
    if (!data.subarray(p, p + n).equals(CLIENT_PREFACE.subarray(0, n))) return this.fallBack();
    if (n < CLIENT_PREFACE.length) return 0;
    this.prefaceSeen = true;
    this.out.toClient(EMPTY_SETTINGS);
    this.out.toServer(data.subarray(p, p + n));
    return n;
  }

  /** Handles the frame at data[p]; returns the bytes consumed, 0 to wait for more. */
  private frame(data: Buffer, p: number): number {
    if (data.length - p < FRAME_HEADER_BYTES) return 0;
    const length = data.readUIntBE(p, 3);
    const type = data[p + 3] as number;
    const flags = data[p + 4] as number;
    if (this.block !== null && type !== T.CONTINUATION) return this.fallBack();
    const decoding = this.modeNow !== 'pass-through';
    const whole =
      (decoding && (type === T.HEADERS || type === T.CONTINUATION)) ||
      (type === T.SETTINGS && (flags & F.ACK) !== 0 && !this.ackDropped) ||
      (type === T.PING && this.modeNow !== 'rewrite');
    if (!whole) {
      if (decoding && type === T.PUSH_PROMISE) return this.fallBack(); // a header block we cannot follow
      this.out.toServer(data.subarray(p, p + FRAME_HEADER_BYTES));
      this.rawRemaining = length;
      return FRAME_HEADER_BYTES;
    }
    if (length > this.maxFrameBytes) return this.fallBack();
    const size = FRAME_HEADER_BYTES + length;
    if (data.length - p < size) return 0;
    const frame = data.subarray(p, p + size);
    if (type === T.SETTINGS) {
      if (length !== 0) return this.fallBack();
      this.ackDropped = true; // the client's ACK of our SETTINGS: nghttp2 never sent them
      if (this.modeNow === 'pass-through') this.rawNow = true;
      return size;
    }
    if (type === T.PING) {
      if (length !== 8) return this.fallBack();
      if ((flags & F.ACK) === 0) {
        const ack = Buffer.from(frame);
        ack[4] = F.ACK;
        this.out.toClient(ack);
      }
      return size;
    }
    return this.headerFrame(frame, type, flags) ? size : this.fallBack();
  }

  /** Adds a HEADERS or CONTINUATION frame to the open block; false when it is malformed. */
  private headerFrame(frame: Buffer, type: number, flags: number): boolean {
    const streamId = frame.readUInt32BE(5) & 0x7fffffff;
    if (type === T.CONTINUATION) {
      const b = this.block;
      if (b === null || b.streamId !== streamId) return false;
      if (b.bytes + frame.length > MAX_HEADER_BLOCK_BYTES) return false;
      b.fragments.push(frame.subarray(FRAME_HEADER_BYTES));
      b.frames.push(frame);
      b.bytes += frame.length - FRAME_HEADER_BYTES;
    } else {
      if (streamId === 0) return false;
      let s = FRAME_HEADER_BYTES;
      let e = frame.length;
      const pad = flags & F.PADDED ? (frame[s++] ?? 0) : 0;
      if (s > e) return false;
      let priority: Buffer | null = null;
      if (flags & F.PRIORITY) {
        if (e - s < 5) return false;
        priority = frame.subarray(s, s + 5);
        s += 5;
      }
      if (pad > e - s) return false;
      e -= pad;
      const fragment = frame.subarray(s, e);
      const keep = flags & (F.END_STREAM | F.PRIORITY);
      this.block = { streamId, flags: keep, priority, fragments: [fragment], frames: [frame], bytes: e - s };
    }
    if (flags & F.END_HEADERS) this.endBlock();
    return true;
  }

  private endBlock(): void {
    const b = this.block as OpenBlock;
    const decoder = this.decoder as HpackDecoder;
    const fragment = b.fragments.length === 1 ? (b.fragments[0] as Buffer) : Buffer.concat(b.fragments);
    const list: HeaderList = [];
    const updates: number[] = [];
    try {
      decoder.decode(fragment, 0, fragment.length, list, updates);
    } catch {
      this.fallBack();
      return;
    }
    this.block = null;
    if (this.modeNow === 'sniff') {
      if (this.authoritiesAcceptable(list)) {
        this.modeNow = 'pass-through';
        this.decoder = null;
        for (const f of b.frames) this.out.toServer(f);
        if (this.ackDropped) this.rawNow = true;
        return;
      }
      this.modeNow = 'rewrite';
    }
    for (let i = 0; i + 1 < list.length; i += 2) {
      if (isAuthorityName(list[i] as string) && !isAuthorityAcceptable(list[i + 1] as string))
        list[i + 1] = reduceAuthority(list[i + 1] as string);
    }
    this.emitBlock(b, encodeLiteralHeaderList(list, updates));
  }

  private authoritiesAcceptable(list: HeaderList): boolean {
    for (let i = 0; i + 1 < list.length; i += 2) {
      if (isAuthorityName(list[i] as string) && !isAuthorityAcceptable(list[i + 1] as string)) return false;
    }
    return true;
  }

  /** Writes a re-encoded block as HEADERS + CONTINUATION frames of at most maxFrameBytes each. */
  private emitBlock(b: OpenBlock, block: Buffer): void {
    const pri = b.priority === null ? 0 : 5;
    let p = 0;
    let first = true;
    do {
      const room = this.maxFrameBytes - (first ? pri : 0);
      const n = Math.min(room, block.length - p);
      const last = p + n === block.length;
      const head = first ? pri : 0;
      const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + head + n);
      frame.writeUIntBE(head + n, 0, 3);
      frame[3] = first ? T.HEADERS : T.CONTINUATION;
      frame[4] = (first ? b.flags : 0) | (last ? F.END_HEADERS : 0);
      frame.writeUInt32BE(b.streamId, 5);
      if (first && b.priority !== null) b.priority.copy(frame, FRAME_HEADER_BYTES);
      block.copy(frame, FRAME_HEADER_BYTES + head, p, p + n);
      this.out.toServer(frame);
      p += n;
      first = false;
    } while (p < block.length);
  }

  /** Malformed input: what is held goes on as received, and so does everything after it. */
  private fallBack(): number {
    if (this.block !== null) for (const f of this.block.frames) this.out.toServer(f);
    this.block = null;
    this.decoder = null;
    this.rawNow = true;
    return 0;
  }
}
