// Helpers for the JSON gateway differential test: plain HTTP/1.1 requests (as curl sends them) to real
// etcd 3.4 and the server under test, answers normalised so that only what identifies the run differs
// (cluster_id, member_id and raft_term, which must still be present on both), and a streaming POST
// /v3/watch reader that waits for lines by content, never by time.
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, target, type ServerHandle } from './harness.js';

const WAIT_MS = 20_000;

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on its own connection, the body sent whole (with a Content-Length). */
export function request(
  baseUrl: string,
  method: string,
  path: string,
  body = '',
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    // The path goes as given (no URL normalisation of "." or "//"), as curl --path-as-is sends it.
    const { hostname, port } = new URL(baseUrl);
    const req = http.request({ host: hostname, port, path, method, agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Keys whose values identify the run rather than the data. */
const RUN_KEYS = new Set(['cluster_id', 'member_id', 'raft_term']);

/** A JSON body with run-identifying values replaced by "*" (a non-JSON body is kept as text). */
export function normalize(body: string, extra: ReadonlySet<string> = new Set()): unknown {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return body;
  }
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (x === null || typeof x !== 'object') return x;
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(x)) {
      out[k] = RUN_KEYS.has(k) || extra.has(k) ? '*' : walk(val);
    }
    return out;
  };
  // Key order matters (jsonpb writes declaration order), so compare the re-serialised text.
  return JSON.stringify(walk(v));
}

/** The headers a gateway answer must agree on. */
const HEADERS = [
  'content-type',
  'grpc-metadata-content-type',
  'trailer',
  'location',
  'x-content-type-options',
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
];

function shape(a: HttpAnswer, extra: ReadonlySet<string>): unknown {
  const headers: Record<string, unknown> = {};
  for (const h of HEADERS) headers[h] = a.headers[h];
  return { status: a.status, headers, body: normalize(a.body, extra) };
}

/** Real etcd and the server under test, asked the same things over HTTP. */
export class GatewayDiff {
  private constructor(
    readonly etcd: ServerHandle,
    readonly sut: ServerHandle,
  ) {}

  static async start(): Promise<GatewayDiff> {
    const [etcd, sut] = await Promise.all([startServer('etcd'), startServer(target())]);
    return new GatewayDiff(etcd, sut);
  }

  async stop(): Promise<void> {
    await Promise.all([this.etcd.stop(), this.sut.stop()]);
  }

  /**
   * Sends the same request to both, etcd first; status, the gateway headers and the normalised body
   * must be equal (`extra` names more keys whose values may differ but must be present on both).
   * Returns etcd's answer.
   */
  async same(
    path: string,
    body: string,
    opts: { method?: string; headers?: Record<string, string>; extra?: ReadonlySet<string> } = {},
  ): Promise<HttpAnswer> {
    const method = opts.method ?? 'POST';
    const a = await request(this.etcd.clientUrl, method, path, body, opts.headers);
    const b = await request(this.sut.clientUrl, method, path, body, opts.headers);
    const extra = opts.extra ?? new Set<string>();
    assert.deepStrictEqual(shape(b, extra), shape(a, extra), `${method} ${path} ${body.slice(0, 300)}`);
    return a;
  }

  /** Like same(), also asserting etcd's status (so each case documents what it tests). */
  async expect(path: string, body: string, status: number): Promise<HttpAnswer> {
    const a = await this.same(path, body);
    assert.equal(a.status, status, `etcd's status for ${path} ${body}`);
    return a;
  }
}

/** A POST /v3/watch whose request body (a stream of WatchRequest objects) is sent whole. */
export class GatewayWatch {
  readonly lines: string[] = [];
  status = 0;
  private buf = '';
  private waiters: (() => void)[] = [];
  private ended = false;
  private readonly req: http.ClientRequest;

  constructor(baseUrl: string, requests: readonly object[]) {
    const body = requests.map((r) => JSON.stringify(r)).join('\n');
    this.req = http.request(`${baseUrl}/v3/watch`, { method: 'POST', agent: false }, (res) => {
      this.status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        this.buf += d;
        let i: number;
        while ((i = this.buf.indexOf('\n')) >= 0) {
          this.lines.push(this.buf.slice(0, i));
          this.buf = this.buf.slice(i + 1);
        }
        this.wake();
      });
      res.on('end', () => {
        this.ended = true;
        this.wake();
      });
      res.on('error', () => undefined);
    });
    this.req.on('error', () => {
      this.ended = true;
      this.wake();
    });
    // etcd's Go HTTP/1.1 server answers only once the body has ended, so it is sent whole.
    this.req.end(body);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until at least n lines arrived; fails with what did arrive if they never do. */
  async waitLines(n: number, what: string): Promise<string[]> {
    const deadline = Date.now() + WAIT_MS;
    while (this.lines.length < n) {
      const left = deadline - Date.now();
      if (this.ended || left <= 0) {
        throw new Error(`watch: ${what}: ${n} lines expected, got:\n${this.lines.join('\n')}\n${this.buf}`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.lines.slice(0, n);
  }

  close(): void {
    this.req.destroy();
  }
}

/** Watch response lines grouped by watch_id, in arrival order within each group, normalised. */
export function byWatchId(lines: readonly string[]): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const line of lines) {
    const v = JSON.parse(line) as { result?: { watch_id?: string } };
    const id = v.result?.watch_id ?? '0';
    (out[id] ??= []).push(normalize(line));
  }
  return out;
}
