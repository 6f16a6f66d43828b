// The WAL's failures. The messages of conditions etcd also has are etcd's own words (wal.go), so an
// operator reading a log recognises them; corruption errors add where (segment, offset) and why.

export const WalErr = {
  exists: 'wal: directory already holds a WAL',
  fileNotFound: 'wal: file not found',
  crcMismatch: 'wal: crc mismatch',
  metadataConflict: 'wal: conflicting metadata found',
  snapshotMismatch: 'wal: snapshot mismatch',
  snapshotNotFound: 'wal: snapshot not found',
  sliceOutOfRange: 'wal: slice bounds out of range',
  maxEntrySize: 'wal: max entry size limit exceeded',
  closed: 'wal: closed',
} as const;

/** A WAL that cannot be opened or written as asked. `corrupt` is set when bytes on disk are bad. */
export class WalError extends Error {
  override name = 'WalError';
  constructor(
    message: string,
    readonly corrupt = false,
  ) {
    super(message);
  }
}

/** Bytes on disk that are not a valid WAL, outside the tail that may be repaired. */
export function corruptError(segment: string, offset: number, reason: string, detail = ''): WalError {
  return new WalError(`wal: corrupt segment ${segment} at offset ${offset}: ${reason}${detail}`, true);
}
