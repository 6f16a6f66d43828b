// Cluster-wide alarms (NOSPACE, CORRUPT), kept in the backend's `alarm` bucket and changed only by
// applying raft entries, so that every member holds the same set.
import type { WriteTx, ReadTx } from '../backend/index.js';
import type { AlarmMember, AlarmRequest } from '../generated/etcdserverpb.js';
import { AlarmRequest_AlarmAction, AlarmType } from '../generated/etcdserverpb.js';

function alarmKey(memberId: bigint, alarm: number): Uint8Array {
  const k = new Uint8Array(12);
  const dv = new DataView(k.buffer);
  dv.setBigUint64(0, memberId);
  dv.setUint32(8, alarm);
  return k;
}

export class AlarmStore {
  private readonly active = new Map<string, AlarmMember>();

  constructor(tx: ReadTx) {
    tx.forEach('alarm', new Uint8Array(0), undefined, (k) => {
      const dv = new DataView(k.buffer, k.byteOffset, k.byteLength);
      const m = { memberID: dv.getBigUint64(0), alarm: dv.getUint32(8) };
      this.active.set(`${m.memberID}:${m.alarm}`, m);
    });
  }

  list(): AlarmMember[] {
    return [...this.active.values()];
  }

  has(alarm: number): boolean {
    for (const m of this.active.values()) if (m.alarm === alarm) return true;
    return false;
  }

  /** Applies an ACTIVATE or DEACTIVATE; returns the alarms the response reports (etcd's shape). */
  apply(tx: WriteTx, r: AlarmRequest): AlarmMember[] {
    const id = `${r.memberID}:${r.alarm}`;
    const m = { memberID: r.memberID, alarm: r.alarm };
    if (r.action === AlarmRequest_AlarmAction.GET) return this.list();
    if (r.action === AlarmRequest_AlarmAction.ACTIVATE) {
      if (r.alarm === AlarmType.NONE) return [];
      if (!this.active.has(id)) {
        tx.put('alarm', alarmKey(r.memberID, r.alarm), new Uint8Array(0));
        this.active.set(id, m);
      }
      return [m];
    }
    if (r.action === AlarmRequest_AlarmAction.DEACTIVATE) {
      if (!this.active.has(id)) return [];
      tx.delete('alarm', alarmKey(r.memberID, r.alarm));
      this.active.delete(id);
      return [m];
    }
    return [];
  }
}
