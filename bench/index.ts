// bench/: `npm run bench` (run.ts) — real etcd 3.4 and ketch started one at a time with the same
// etcd flags on loopback, as single servers and as 3-member clusters (--members), the same loads
// against each, a Markdown/JSON table per cluster size with the ratio.
//
// What it owns: the load generator — a raw HTTP/2 gRPC client on node:net (h2-connection.ts over h2-base.ts,
// h2-frames.ts, grpc-call.ts), HPACK (from src/platform/hpack.ts), hand-encoded requests
// (grpc-codec.ts, request.ts), spread over worker threads (load-runner.ts, load-worker.ts,
// load-protocol.ts), with node-http2-connection.ts as a second client to cross-check; server
// start/stop (servers.ts) and clusters of them (cluster.ts), single calls (probe.ts), one measurement (measure.ts), the order of a
// run (schedule.ts), /proc readers (proc-stats.ts), statistics (stats.ts), flags (options.ts),
// the report (report.ts) and the entry point (run.ts). fake-grpc-server.ts serves the tests.
// `npm run bench -- watch` (watch.ts): event latency of many watchers on one key and RSS with
// 100,000 idle watchers, over a raw HTTP/2 bidi client (watch-h2.ts, watch-codec.ts, watch-*.ts).
//
// Invariants: the generator must not be the bottleneck, so requests are pre-encoded, written in
// one socket write per event-loop turn, and its CPU time is reported beside the server's; every
// failed request (transport error, RST_STREAM, GOAWAY, non-zero grpc-status, malformed reply)
// is counted and reported and makes the run exit non-zero. The servers run one at a time, never
// side by side, each measurement on a fresh process (or cluster) with fresh temp data dirs; a
// load's connection j goes to cluster member j % N, as etcd's benchmark spreads --endpoints.
//
// May import: anything (DESIGN §2); today it uses only node:* built-ins.
export { LoadGenerator, type LoadSpec, type LoadResult } from './load-runner.js';
export { parseOptions, type BenchOptions } from './options.js';
export { renderMarkdown, type BenchReport } from './report.js';
export { percentile, summarize, type LatencySummary } from './stats.js';
