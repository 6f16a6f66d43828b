// Framing on peer streams: every frame is a 4-byte big-endian length followed by that many bytes.
// On /raft/stream each frame is one encoded raft Message, and a write carries a batch of them. On
// /raft/snapshot the first frame is the encoded MsgSnap, then the snapshot body follows as data
// frames, and an empty frame ends it, so a receiver can tell a complete body from a cut one
// whatever the HTTP layer reports.
//
// Decoders never trust a length: a frame longer than the limit, or a message that does not decode,
// is an Error (the caller drops the connection and logs it).

import { decodeMessage, encodeMessageInto, encodedMessageSize } from '../raft/raft-codec.js';
import type { Message } from '../raft/types.js';

export const FRAME_HEADER_BYTES = 4;

/** The frames of `msgs`, encoded straight into one buffer (one write on the stream). */
export function encodeMessageFrames(msgs: readonly Message[]): Buffer {
  const sizes = msgs.map(encodedMessageSize);
  let total = 0;
  for (const n of sizes) total += FRAME_HEADER_BYTES + n;
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  msgs.forEach((m, i) => {
    const n = sizes[i]!;
    out.writeUInt32BE(n, pos);
    const end = encodeMessageInto(m, out, pos + FRAME_HEADER_BYTES);
    if (end !== pos + FRAME_HEADER_BYTES + n)
      throw new Error(`message encoded to ${end - pos - FRAME_HEADER_BYTES} bytes, sized ${n}`);
    pos = end;
  });
  return out;
}

/** A frame header announcing `n` bytes. */
export function frameHeader(n: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  h.writeUInt32BE(n, 0);
  return h;
}

/** One frame holding `payload`. */
export function frame(payload: Uint8Array): Buffer {
  return Buffer.concat([frameHeader(payload.length), payload]);
}

/** Byte queue shared by both decoders: chunks in, exact-length slices out, without re-copying. */
class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0; // bytes of chunks[0] already consumed
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(
      Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length),
    );
    this.length += chunk.length;
  }

  peekUInt32(): number {
    const first = this.chunks[0]!;
    if (first.length - this.head >= 4) return first.readUInt32BE(this.head);
    return this.take(4, false).readUInt32BE(0);
  }

  /** The next n bytes (n <= length); consumed unless `consume` is false. */
  take(n: number, consume = true): Buffer {
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      if (consume) this.advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    let i = 0;
    let off = this.head;
    while (copied < n) {
      const c = this.chunks[i]!;
      const k = Math.min(n - copied, c.length - off);
      c.copy(out, copied, off, off + k);
      copied += k;
      i++;
      off = 0;
    }
    if (consume) this.advance(n);
    return out;
  }

  private advance(n: number): void {
    this.length -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      const left = first.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }
}

/** Push-side decoder of message frames (for /raft/stream, fed by the stream's data events). */
export class MessageFrameDecoder {
  private readonly q = new ByteQueue();

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes received but not yet part of a whole frame. */
  get pendingBytes(): number {
    return this.q.length;
  }

  /**
   * Adds a chunk and hands each message it completes to `deliver`, in order; throws at the first bad
   * length or message (those before it have been delivered).
   */
  push(chunk: Uint8Array, deliver: (m: Message) => void): void {
    this.q.push(chunk);
    while (this.q.length >= FRAME_HEADER_BYTES) {
      const n = this.q.peekUInt32();
      if (n === 0) throw new Error('empty frame on a message stream');
      if (n > this.maxFrameBytes)
        throw new Error(`frame of ${n} bytes exceeds the limit of ${this.maxFrameBytes}`);
      if (this.q.length < FRAME_HEADER_BYTES + n) break;
      this.q.take(FRAME_HEADER_BYTES);
      deliver(decodeMessage(this.q.take(n)));
    }
  }
}

/** Pull-side frame reader over a byte stream (for /raft/snapshot, where the consumer sets the pace). */
export class FrameReader {
  private readonly q = new ByteQueue();
  private readonly it: AsyncIterator<Uint8Array>;
  private ended = false;

  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly maxFrameBytes: number,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.q.length < n) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done === true) this.ended = true;
      else this.q.push(r.value);
    }
    return true;
  }

  /**
   * The next frame's payload (a copy-free view; empty for the terminating frame), or undefined if the
   * source ended cleanly at a frame boundary. Throws if it ended inside a frame or a length is too big.
   */
  async next(): Promise<Uint8Array | undefined> {
    if (!(await this.fill(FRAME_HEADER_BYTES))) {
      if (this.q.length === 0) return undefined;
      throw new Error('stream ended inside a frame header');
    }
    const n = this.q.peekUInt32();
    if (n > this.maxFrameBytes)
      throw new Error(`frame of ${n} bytes exceeds the limit of ${this.maxFrameBytes}`);
    if (!(await this.fill(FRAME_HEADER_BYTES + n)))
      throw new Error(`stream ended inside a frame of ${n} bytes`);
    this.q.take(FRAME_HEADER_BYTES);
    return n === 0 ? new Uint8Array(0) : this.q.take(n);
  }

  /** Stops pulling from the source (lets it clean up). */
  async close(): Promise<void> {
    if (!this.ended && this.it.return !== undefined) {
      this.ended = true;
      await this.it.return();
    }
  }
}
