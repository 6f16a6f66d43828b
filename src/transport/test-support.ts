// Helpers for the transport's tests: a logger that keeps its lines, a PeerHandler that records what
// it is given, and a waiter that polls a condition (tests wait for outcomes, never for durations).

import net from 'node:net';
import type { LogFields, Logger } from '../base/log.js';
import type { Message } from '../raft/types.js';
import type { PeerHandler } from '../server/peer-transport.js';
import { HttpPeerTransport, type HttpPeerTransportOptions } from './http-peer-transport.js';

export interface LogLine {
  level: string;
  msg: string;
  fields: LogFields;
}

export class CapturingLogger implements Logger {
  readonly lines: LogLine[] = [];
  private add(level: string, msg: string, fields: LogFields = {}): void {
    this.lines.push({ level, msg, fields });
  }
  debug(msg: string, fields?: LogFields): void {
    this.add('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.add('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.add('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.add('error', msg, fields);
  }
  find(msg: string): LogLine | undefined {
    return this.lines.find((l) => l.msg === msg);
  }
}

export class RecordingHandler implements PeerHandler {
  readonly processed: Message[] = [];
  readonly unreachable: bigint[] = [];
  readonly snapshotReports: { id: bigint; ok: boolean }[] = [];
  receive: (m: Message, body: AsyncIterable<Uint8Array>) => Promise<void> = async (_m, body) => {
    for await (const chunk of body) void chunk;
  };
  process(m: Message): void {
    this.processed.push(m);
  }
  receiveSnapshot(m: Message, body: AsyncIterable<Uint8Array>): Promise<void> {
    return this.receive(m, body);
  }
  reportUnreachable(id: bigint): void {
    this.unreachable.push(id);
  }
  reportSnapshot(id: bigint, ok: boolean): void {
    this.snapshotReports.push({ id, ok });
  }
}

/** Resolves once `cond()` holds; polls every few milliseconds; rejects after `limitMs` (a hang, not a timing check). */
export async function waitFor(cond: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface Member {
  id: bigint;
  t: HttpPeerTransport;
  h: RecordingHandler;
  log: CapturingLogger;
  url: string;
}

/** Starts a transport for member `id` on a free loopback port (or on `url`). */
export async function startMember(
  id: bigint,
  clusterId = 0xc1n,
  url = 'http://127.0.0.1:0',
  extra: Partial<HttpPeerTransportOptions> = {},
): Promise<Member> {
  const log = new CapturingLogger();
  const h = new RecordingHandler();
  const t = new HttpPeerTransport({
    localId: id,
    clusterId,
    listenUrls: [url],
    logger: log,
    nowMs: () => performance.now(),
    ...extra,
  });
  await t.start(h);
  return { id, t, h, log, url: t.listenAddresses()[0]! };
}

/** Makes every member a peer of every other one and waits until all streams are up. */
export async function connectAll(members: readonly Member[]): Promise<void> {
  for (const a of members) for (const b of members) if (a !== b) a.t.addPeer(b.id, [b.url]);
  await waitFor(
    () => members.every((a) => members.every((b) => a === b || a.t.activeSince(b.id) !== undefined)),
    'all streams active',
  );
}

/**
 * A TCP proxy in front of a member that can be frozen: while frozen nothing moves in either
 * direction and new connections are held, as with a member stopped by SIGSTOP or a silent network
 * partition (no resets, no errors, just silence).
 */
export class FreezableProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly held: net.Socket[] = [];
  private frozen = false;
  url = '';

  constructor(private readonly target: string) {
    this.server = net.createServer((client) => {
      this.track(client);
      client.pause();
      if (this.frozen) this.held.push(client);
      else this.pipe(client);
    });
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on('error', () => s.destroy());
    s.once('close', () => this.sockets.delete(s));
  }

  private pipe(client: net.Socket): void {
    const u = new URL(this.target);
    const upstream = net.connect(Number(u.port), u.hostname);
    this.track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.resume();
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    return this.url;
  }

  freeze(): void {
    this.frozen = true;
    for (const s of this.sockets) s.pause();
  }

  thaw(): void {
    this.frozen = false;
    for (const s of this.sockets) s.resume();
    for (const c of this.held.splice(0)) this.pipe(c);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
