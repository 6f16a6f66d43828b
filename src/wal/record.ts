// WAL record format: framing, the CRC-32C chain and the payload layouts. Everything is little endian.
//
// Frame (etcd's): an 8-byte length word, then the record, then 0-7 zero padding bytes so the next
// frame starts 8-byte aligned (an aligned length word is never torn across sectors). The low 56 bits
// of the length word are the record length; if padding follows, the high byte is 0x80 | padding.
// A length word of zero means "no more records": the preallocated, still-zero part of a segment.
//
// Record:
//   [0]     type      1 metadata, 2 entry, 3 hard state, 4 crc, 5 snapshot marker,
//                     6 restore marker (a snapshot replaced the whole log: entries before it are void)
//   [1]     flags     bit 0: first record of a write batch (one save = one batch = one write)
//   [2..3]  reserved  zero
//   [4..7]  crc       u32: CRC-32C of record[0..4) and the payload, continuing from the previous
//                     record's crc, so the records of all segments form one chain. A crc record
//                     instead stores the chain value itself: it opens every segment and carries the
//                     chain across the file boundary.
//   [8..]   payload
//
// Payloads:
//   metadata  the caller's bytes (the same in every segment)
//   entry     term u64, index u64, entry type u8, then the entry data
//   state     term u64, vote u64, commit u64
//   crc       empty
//   snapshot  index u64, term u64
//   restore   index u64, term u64
import { assert } from '../base/assert.js';
import { crc32c } from '../base/crc32c.js';
import type { Entry, EntryType, HardState } from '../raft/types.js';
import { WalError, WalErr } from './errors.js';

export const RecordType = { Metadata: 1, Entry: 2, State: 3, Crc: 4, Snapshot: 5, Restore: 6 } as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export const FLAG_BATCH_START = 1;

export const FRAME_BYTES = 8;
export const HEADER_BYTES = 8;
const ENTRY_FIXED_BYTES = 17;
const STATE_BYTES = 24;
const SNAPSHOT_BYTES = 16;

/** Largest record accepted (etcd's maxWALEntrySizeLimit): a bound on lengths read from disk. */
export const MAX_RECORD_BYTES = 10 * 1024 * 1024;

/** A snapshot marker: raft state up to `index` (of `term`) is in a snapshot file. */
export interface WalSnapshot {
  index: bigint;
  term: bigint;
}

export type WalRecord =
  | { type: typeof RecordType.Metadata; data: Uint8Array }
  | { type: typeof RecordType.Entry; entry: Entry }
  | { type: typeof RecordType.State; state: HardState }
  | { type: typeof RecordType.Crc; crc: number }
  | { type: typeof RecordType.Snapshot; snapshot: WalSnapshot }
  | { type: typeof RecordType.Restore; snapshot: WalSnapshot };

function payloadBytes(r: WalRecord): number {
  switch (r.type) {
    case RecordType.Metadata:
      return r.data.length;
    case RecordType.Entry:
      return ENTRY_FIXED_BYTES + r.entry.data.length;
    case RecordType.State:
      return STATE_BYTES;
    case RecordType.Crc:
      return 0;
    case RecordType.Snapshot:
    case RecordType.Restore:
      return SNAPSHOT_BYTES;
  }
}

function padOf(recordBytes: number): number {
  return (8 - (recordBytes % 8)) % 8;
}

function writePayload(r: WalRecord, buf: Uint8Array, view: DataView, at: number): void {
  switch (r.type) {
    case RecordType.Metadata:
      buf.set(r.data, at);
      return;
    case RecordType.Entry:
      view.setBigUint64(at, r.entry.term, true);
      view.setBigUint64(at + 8, r.entry.index, true);
      buf[at + 16] = r.entry.type;
      buf.set(r.entry.data, at + ENTRY_FIXED_BYTES);
      return;
    case RecordType.State:
      view.setBigUint64(at, r.state.term, true);
      view.setBigUint64(at + 8, r.state.vote, true);
      view.setBigUint64(at + 16, r.state.commit, true);
      return;
    case RecordType.Crc:
      return;
    case RecordType.Snapshot:
    case RecordType.Restore:
      view.setBigUint64(at, r.snapshot.index, true);
      view.setBigUint64(at + 8, r.snapshot.term, true);
      return;
  }
}

/**
 * Encodes records as one write batch (the first is flagged as the batch start), continuing the
 * CRC chain from `prevCrc`. Returns the bytes and the chain value after the last record.
 */
export function encodeBatch(records: WalRecord[], prevCrc: number): { bytes: Uint8Array; crc: number } {
  assert(records.length > 0, 'wal: empty write batch');
  let total = 0;
  for (const r of records) {
    const len = HEADER_BYTES + payloadBytes(r);
    if (len > MAX_RECORD_BYTES) throw new WalError(WalErr.maxEntrySize);
    total += FRAME_BYTES + len + padOf(len);
  }
  const buf = new Uint8Array(total);
  const view = new DataView(buf.buffer);
  let crc = prevCrc;
  let at = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const len = HEADER_BYTES + payloadBytes(r);
    const pad = padOf(len);
    view.setUint32(at, len, true);
    view.setUint32(at + 4, pad === 0 ? 0 : (0x80 | pad) << 24, true);
    const rec = at + FRAME_BYTES;
    buf[rec] = r.type;
    buf[rec + 1] = i === 0 ? FLAG_BATCH_START : 0;
    writePayload(r, buf, view, rec + HEADER_BYTES);
    if (r.type === RecordType.Crc) {
      crc = r.crc;
    } else {
      crc = crc32c(buf.subarray(rec + HEADER_BYTES, rec + len), crc32c(buf.subarray(rec, rec + 4), crc));
    }
    view.setUint32(rec + 4, crc, true);
    at = rec + len + pad;
  }
  return { bytes: buf, crc };
}

/** A frame that parsed: sane length, known type and flags, payload of the right shape. */
export interface Frame {
  offset: number;
  /** Offset just past the frame's padding: where the next frame starts. */
  end: number;
  type: RecordType;
  flags: number;
  storedCrc: number;
  /** Record bytes [0..4), covered by the crc. */
  head: Uint8Array;
  payload: Uint8Array;
}

/** Reads the length word at `off` as two halves; both zero means the end of the records. */
export function isZeroWord(view: DataView, off: number): boolean {
  return view.getUint32(off, true) === 0 && view.getUint32(off + 4, true) === 0;
}

function payloadShapeError(type: number, payload: Uint8Array): string | undefined {
  switch (type) {
    case RecordType.Metadata:
      return undefined;
    case RecordType.Entry:
      if (payload.length < ENTRY_FIXED_BYTES) return `entry payload of ${payload.length} bytes`;
      return payload[16]! <= 2 ? undefined : `unknown entry type ${payload[16]}`;
    case RecordType.State:
      return payload.length === STATE_BYTES ? undefined : `hard state payload of ${payload.length} bytes`;
    case RecordType.Crc:
      return payload.length === 0 ? undefined : `crc record payload of ${payload.length} bytes`;
    case RecordType.Snapshot:
    case RecordType.Restore:
      return payload.length === SNAPSHOT_BYTES ? undefined : `snapshot payload of ${payload.length} bytes`;
    default:
      return `unknown record type ${type}`;
  }
}

/**
 * Parses the frame at `off` (8-aligned, below buf.length) without checking its crc. Returns the
 * frame, or a reason why the bytes there are not a frame.
 */
export function parseFrame(buf: Uint8Array, view: DataView, off: number): Frame | string {
  if (off + FRAME_BYTES > buf.length) return 'partial length word';
  const lo = view.getUint32(off, true);
  const hi = view.getUint32(off + 4, true);
  const top = hi >>> 24;
  const pad = top & 7;
  if ((hi & 0xffffff) !== 0 || lo > MAX_RECORD_BYTES) return 'record length exceeds the limit';
  if (top !== 0 && (top & 0xf8) !== 0x80) return `bad length word high byte 0x${top.toString(16)}`;
  if (pad !== padOf(lo)) return `padding ${pad} does not match record length ${lo}`;
  if (lo < HEADER_BYTES) return `record length ${lo} below the header size`;
  const rec = off + FRAME_BYTES;
  const end = rec + lo + pad;
  if (end > buf.length) return 'record runs past the end of the file';
  for (let i = rec + lo; i < end; i++) if (buf[i] !== 0) return 'non-zero padding';
  const type = buf[rec]!;
  const flags = buf[rec + 1]!;
  if ((flags & ~FLAG_BATCH_START) !== 0) return `unknown record flags 0x${flags.toString(16)}`;
  if (buf[rec + 2] !== 0 || buf[rec + 3] !== 0) return 'non-zero reserved header bytes';
  const payload = buf.subarray(rec + HEADER_BYTES, rec + lo);
  const shape = payloadShapeError(type, payload);
  if (shape !== undefined) return shape;
  return {
    offset: off,
    end,
    type: type as RecordType,
    flags,
    storedCrc: view.getUint32(rec + 4, true),
    head: buf.subarray(rec, rec + 4),
    payload,
  };
}

/** The chain value a non-crc frame must store, given the chain value before it. */
export function frameCrc(f: Frame, prevCrc: number): number {
  return crc32c(f.payload, crc32c(f.head, prevCrc));
}

/** Decodes a parsed frame; byte arrays are copied so the segment buffer can be dropped. */
export function decodeFrame(f: Frame): WalRecord {
  const p = f.payload;
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  switch (f.type) {
    case RecordType.Metadata:
      return { type: f.type, data: p.slice() };
    case RecordType.Entry:
      return {
        type: f.type,
        entry: {
          term: view.getBigUint64(0, true),
          index: view.getBigUint64(8, true),
          type: p[16] as EntryType,
          data: p.slice(ENTRY_FIXED_BYTES),
        },
      };
    case RecordType.State:
      return {
        type: f.type,
        state: {
          term: view.getBigUint64(0, true),
          vote: view.getBigUint64(8, true),
          commit: view.getBigUint64(16, true),
        },
      };
    case RecordType.Crc:
      return { type: f.type, crc: f.storedCrc };
    case RecordType.Snapshot:
    case RecordType.Restore:
      return {
        type: f.type,
        snapshot: { index: view.getBigUint64(0, true), term: view.getBigUint64(8, true) },
      };
  }
}
