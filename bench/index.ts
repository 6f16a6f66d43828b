// bench/: `npm run bench` (run.ts) — real etcd 3.4 and ketch started one at a time with the same
// etcd flags on loopback, the same loads against each, a Markdown/JSON table with the ratio.
//
// What it owns: the load generator (a raw HTTP/2 gRPC client on node:net, h2-connection.ts, with
// HPACK from src/platform/hpack.ts and hand-encoded requests in grpc-codec.ts/request.ts, spread over
// worker threads by load-runner.ts/load-worker.ts), server start/stop (servers.ts), /proc readers
// (proc-stats.ts), statistics (stats.ts), flags (options.ts) and the report (report.ts).
//
// Invariants: the generator must not be the bottleneck, so requests are pre-encoded, written in
// one socket write per event-loop turn, and its CPU time is reported beside the server's; every
// failed request (transport error, RST_STREAM, GOAWAY, non-zero grpc-status, malformed reply)
// is counted and reported and makes the run exit non-zero. The servers run one at a time on
// the machine's cores with fresh temp data dirs, never side by side.
//
// May import: anything (DESIGN §2); today it uses only node:* built-ins.
export { LoadGenerator, type LoadSpec, type LoadResult } from './load-runner.js';
export { parseOptions, type BenchOptions } from './options.js';
export { renderMarkdown, type BenchReport } from './report.js';
export { percentile, summarize, type LatencySummary } from './stats.js';
