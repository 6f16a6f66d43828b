// The :authority shim between an HTTP/2 client's socket and node's HTTP/2 session, so that requests
// whose :authority nghttp2 refuses (Go's clientv3 3.4 sends `http://127.0.0.1:2379` for some calls)
// are served as etcd's Go server serves them. h2-authority-rewriter.ts says what happens to the
// bytes; this file owns the socket plumbing.
//
// Cost: node's session reads a plain socket in C++, and any JS stream in between (node wraps it in a
// JSStreamSocket) costs every read and write a trip through JS. So the shim reads only the first
// bytes in JS. When the first request is acceptable as it is (all but clientv3's calls on an
// endpoint written with a scheme), it puts those bytes back (socket.unshift) and hands node the
// socket itself: the connection costs one 9-byte write and one decoded header block, and after that
// there is no per-byte or per-request work at all. Only a connection whose first request needs
// rewriting gets a Duplex (RewriteStream) between the socket and node for its whole life.
import { Buffer } from 'node:buffer';
import { Duplex } from 'node:stream';
import type http2 from 'node:http2';
import type net from 'node:net';
import { AuthorityRewriter, DEFAULT_MAX_FRAME_BYTES } from './h2-authority-rewriter.js';

/** Receives the stream node's HTTP/2 server should serve: the socket itself, or a RewriteStream. */
export type Http2Handoff = (stream: net.Socket | Duplex) => void;

/** GOAWAY, last stream 0, NO_ERROR: what a server that is closing tells a client that sent nothing. */
const GOAWAY_NO_ERROR = Buffer.from([0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

/**
 * One HTTP/2 connection until node's session takes it over. `head` holds the bytes already read
 * from `socket` (at least the start of the client preface, or nothing with TLS).
 */
export class AuthorityShim {
  private readonly rewriter: AuthorityRewriter;
  private pending: Buffer[] = [];
  private stream: RewriteStream | null = null;
  private handedOver = false;
  private goingAway = false;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private readonly onEnd = (): void => {
    // The client went away before a request could be served: nothing to hand over.
    this.handedOver = true;
    this.socket.destroy();
  };

  constructor(
    private readonly socket: net.Socket,
    private readonly handOff: Http2Handoff,
    maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
  ) {
    this.rewriter = new AuthorityRewriter(
      {
        toServer: (b) => {
          if (this.stream !== null) this.stream.deliver(b);
          else this.pending.push(b);
        },
        toClient: (b) => {
          if (!this.socket.destroyed) this.socket.write(b);
        },
      },
      maxFrameBytes,
    );
  }

  /** Starts reading; `handOff` is called once, now or later, unless the connection ends first. */
  start(head: Buffer): void {
    this.socket.on('data', this.onData);
    this.socket.on('end', this.onEnd);
    if (head.length > 0) this.receive(head);
  }

  /**
   * The server is closing: a client that has sent no request is told to go away (what node's
   * session would do), now or once its preface is in. A request under way is still handed over.
   */
  goAway(): void {
    this.goingAway = true;
    if (this.handedOver || !this.rewriter.idle) return;
    this.handedOver = true;
    this.socket.off('data', this.onData);
    this.socket.end(GOAWAY_NO_ERROR);
  }

  private receive(chunk: Buffer): void {
    if (this.handedOver && this.stream === null) return;
    this.rewriter.push(chunk);
    if (this.handedOver) return;
    if (this.rewriter.mode === 'rewrite') this.rewrite();
    else if (this.rewriter.raw) this.passThrough();
    else if (this.goingAway) this.goAway();
  }

  private passThrough(): void {
    this.handedOver = true;
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.pause(); // node's session reads what is unshifted on its next tick
    const held = this.pending;
    this.pending = [];
    if (held.length > 0) this.socket.unshift(held.length === 1 ? (held[0] as Buffer) : Buffer.concat(held));
    this.handOff(this.socket);
  }

  private rewrite(): void {
    this.handedOver = true;
    const stream = new RewriteStream(this.socket);
    this.stream = stream;
    for (const b of this.pending) stream.deliver(b);
    this.pending = [];
    this.socket.off('end', this.onEnd);
    this.socket.on('end', () => stream.push(null));
    this.socket.on('close', () => stream.destroy());
    this.handOff(stream);
  }
}

/**
 * The Duplex node's session reads and writes when a connection is rewritten: reads are the
 * rewriter's output, writes go to the socket untouched.
 */
export class RewriteStream extends Duplex {
  constructor(readonly socket: net.Socket) {
    super();
  }

  /** Bytes from the rewriter; the socket pauses while node's session is not reading. */
  deliver(bytes: Buffer): void {
    if (!this.push(bytes)) this.socket.pause();
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, callback);
  }

  /** node's session hands over several buffers at once: one socket write (writev) for all. */
  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    this.socket.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.socket.write((chunks[i] as { chunk: Buffer }).chunk);
    this.socket.write((chunks[chunks.length - 1] as { chunk: Buffer }).chunk, callback);
    this.socket.uncork();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}

/**
 * Node serves a Duplex through a JSStreamSocket, which knows no peer address; a session on a
 * RewriteStream is given the socket's, so that a call's peer still names the client. Call it from
 * the server's 'session' event; a session on a plain socket is left alone.
 */
export function adoptPeerAddress(session: http2.ServerHttp2Session): void {
  const wrapper = session.socket as unknown as { stream?: unknown; _peername?: object };
  const stream = wrapper.stream;
  if (!(stream instanceof RewriteStream)) return;
  const { remoteAddress: address, remotePort: port, remoteFamily: family } = stream.socket;
  wrapper._peername = { address, port, family };
}
