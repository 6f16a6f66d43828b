// Child process for lmdb-crash.test.ts: writes transactions through the LMDB backend forever,
// printing "synced N" each time a sync() that began after transaction N resolves, until the test
// kills it with SIGKILL. Each transaction N records N in meta, writes KEYS_PER_TXN keys valued N
// and deletes the keys of transaction N - KEEP_TXNS, so freed pages get reused. The counter plays
// the server's applied index: it is written in the same write() as the data it covers. An
// optional second argument sets the backend's batchLimitOps, so batched flushes land between
// syncs (and the kill lands between flushes).
import { LmdbBackend } from './lmdb-backend.js';

export const KEYS_PER_TXN = 5;
export const KEEP_TXNS = 50;
export const COUNTER_KEY = new TextEncoder().encode('crash-test-counter');

export function txnKey(n: number, j: number): Uint8Array {
  const k = new Uint8Array(12);
  const v = new DataView(k.buffer);
  v.setBigUint64(0, BigInt(n));
  v.setUint32(8, j);
  return k;
}

export function encodeCounter(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

export function decodeCounter(b: Uint8Array | undefined): number {
  if (b === undefined) return 0;
  return Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0));
}

async function main(dir: string, batchLimitOps: number | undefined): Promise<void> {
  const backend = LmdbBackend.open({ path: dir, batchLimitOps });
  let n = backend.read((tx) => decodeCounter(tx.get('meta', COUNTER_KEY)));
  for (;;) {
    for (let i = 0; i < 20; i++) {
      n++;
      const t = n;
      backend.write((tx) => {
        tx.put('meta', COUNTER_KEY, encodeCounter(t));
        // Every seventh transaction writes big values, so overflow pages and file growth happen.
        const size = t % 7 === 0 ? 9000 : 40;
        for (let j = 0; j < KEYS_PER_TXN; j++)
          tx.put('key', txnKey(t, j), new Uint8Array(size).fill(t & 0xff));
        if (t > KEEP_TXNS) for (let j = 0; j < KEYS_PER_TXN; j++) tx.delete('key', txnKey(t - KEEP_TXNS, j));
      });
    }
    const covered = n;
    await backend.sync();
    process.stdout.write(`synced ${covered}\n`);
  }
}

if (process.argv[2] !== undefined && process.argv[1]?.endsWith('lmdb-crash-child.js')) {
  void main(process.argv[2], process.argv[3] === undefined ? undefined : Number(process.argv[3]));
}
