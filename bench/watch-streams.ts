// Many watchers on a few Watch streams over a few connections, as the watch benchmark's loads need
// them: stream j goes on connection j % conns and holds its share of the watchers, all created with
// one write of back-to-back WatchCreateRequests (server-assigned ids, which the k-th `created`
// response of a stream gives to its k-th request, as etcd answers creates in order). Events are
// handed on with the watcher's number; refused creates, cancels, responses for unknown ids and
// streams that end are reported as problems, never ignored.
import { H2StreamConnection, type StreamHandler } from './watch-h2.js';
import {
  decodeWatchResponse,
  encodeWatchCreate,
  frameMessages,
  WATCH_PATH,
  type WatchEventView,
} from './watch-codec.js';
import { splitEvenly } from './stats.js';

export interface WatcherPlan {
  conns: number;
  streams: number;
  watchers: number;
}

/** Which connection each stream uses and which watchers (first, count) each stream holds. */
export function planStreams(p: WatcherPlan): { conn: number; first: number; count: number }[] {
  if (!(p.conns >= 1 && p.streams >= p.conns && p.watchers >= p.streams))
    throw new RangeError('need 1 ≤ connections ≤ streams ≤ watchers');
  let first = 0;
  return splitEvenly(p.watchers, p.streams).map((count, j) => {
    const s = { conn: j % p.conns, first, count };
    first += count;
    return s;
  });
}

export type EventSink = (watcher: number, ev: WatchEventView, recvMs: number) => void;

class WatchStream implements StreamHandler {
  created = 0;
  private readonly ids = new Map<number, number>();
  closed: string | null = null;

  constructor(
    private readonly set: WatcherSet,
    readonly first: number,
    readonly count: number,
  ) {}

  onMessage(msg: Uint8Array, recvMs: number): void {
    const r = decodeWatchResponse(msg);
    if (r.created) {
      if (r.canceled)
        return this.set.problem(`a watch create was refused: ${r.cancelReason || '(no reason)'}`);
      if (this.created >= this.count) return this.set.problem('more created responses than create requests');
      if (this.ids.has(r.watchId))
        return this.set.problem(`watch id ${r.watchId} created twice on one stream`);
      this.ids.set(r.watchId, this.first + this.created++);
      this.set.createdTotal++;
      return;
    }
    if (r.canceled) return this.set.problem(`a watcher was canceled: ${r.cancelReason || '(no reason)'}`);
    const w = this.ids.get(r.watchId);
    if (w === undefined) return this.set.problem(`a response for watch id ${r.watchId}, never created`);
    if (r.events.length === 0) return void this.set.progressResponses++;
    for (const ev of r.events) this.set.onEvent(w, ev, recvMs);
  }

  onClose(reason: string): void {
    this.closed = reason;
    if (!this.set.closing) this.set.problem(`a watch stream ended: ${reason}`);
  }
}

export class WatcherSet {
  createdTotal = 0;
  progressResponses = 0;
  closing = false;
  private readonly problemCounts = new Map<string, number>();

  private constructor(
    private readonly conns: H2StreamConnection[],
    readonly onEvent: EventSink,
    readonly total: number,
  ) {}

  /**
   * Connects, opens the streams and sends every create request (watcher w watches keyOf(w), from
   * the next revision). Resolves once the requests are queued; `waitCreated` waits for the answers.
   */
  static async open(
    host: string,
    port: number,
    plan: WatcherPlan,
    keyOf: (watcher: number) => Uint8Array,
    onEvent: EventSink,
  ): Promise<WatcherSet> {
    const streams = planStreams(plan);
    const conns: H2StreamConnection[] = [];
    try {
      for (let i = 0; i < plan.conns; i++) conns.push(await H2StreamConnection.connect(host, port));
    } catch (err) {
      for (const c of conns) c.close();
      throw err;
    }
    const set = new WatcherSet(conns, onEvent, plan.watchers);
    for (const s of streams) {
      const conn = conns[s.conn] as H2StreamConnection;
      const handler = new WatchStream(set, s.first, s.count);
      const id = conn.openStream(WATCH_PATH, handler);
      const creates: Uint8Array[] = [];
      for (let w = s.first; w < s.first + s.count; w++) creates.push(encodeWatchCreate({ key: keyOf(w) }));
      conn.send(id, frameMessages(creates));
    }
    return set;
  }

  /** The smallest stream limit the server announced over the connections (Infinity: none). */
  get peerMaxStreams(): number {
    return Math.min(...this.conns.map((c) => c.peerMaxStreams));
  }

  get bytesRead(): number {
    return this.conns.reduce((n, c) => n + c.bytesRead, 0);
  }

  problem(message: string): void {
    this.problemCounts.set(message, (this.problemCounts.get(message) ?? 0) + 1);
  }

  get problems(): string[] {
    return [...this.problemCounts].map(([m, n]) => (n > 1 ? `${m} (×${n})` : m));
  }

  /**
   * Waits until every watcher is created; throws on a problem or after `timeoutMs`, saying how many
   * were created. `report` is called every few seconds with the count so far.
   */
  async waitCreated(timeoutMs: number, report?: (created: number) => void): Promise<void> {
    const until = performance.now() + timeoutMs;
    let nextReport = performance.now() + 5000;
    while (this.createdTotal < this.total) {
      if (this.problemCounts.size > 0)
        throw new Error(`creating watchers: ${this.problems.join('; ')} (${this.createdTotal} created)`);
      const now = performance.now();
      if (now > until)
        throw new Error(`only ${this.createdTotal} of ${this.total} watchers created within ${timeoutMs} ms`);
      if (report !== undefined && now > nextReport) {
        report(this.createdTotal);
        nextReport = now + 5000;
      }
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  close(): void {
    this.closing = true;
    for (const c of this.conns) c.close();
  }
}
