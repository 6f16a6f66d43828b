// Liveness of an HTTP/2 connection: a PING every interval; one left unanswered for the timeout
// means the peer is stopped, cut off or gone, and the connection is given up (TCP alone can take
// minutes to notice). Both ends of a peer connection run this.
import type { Http2Session } from 'node:http2';

/** Starts pinging `session`; returns the function that stops it. `onDead` runs at most once. */
export function keepAlive(
  session: Http2Session,
  intervalMs: number,
  timeoutMs: number,
  onDead: () => void,
): () => void {
  let outstanding: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    clearInterval(interval);
    if (outstanding !== undefined) clearTimeout(outstanding);
  };
  const interval = setInterval(() => {
    if (stopped || outstanding !== undefined || session.destroyed || session.closed) return;
    outstanding = setTimeout(() => {
      if (stopped) return;
      stop();
      onDead();
    }, timeoutMs);
    const answered = (): void => {
      if (outstanding !== undefined) clearTimeout(outstanding);
      outstanding = undefined;
    };
    try {
      // An error (session closing) is handled by the session's own close path, not here.
      session.ping(answered);
    } catch {
      answered();
    }
  }, intervalMs);
  session.once('close', stop);
  return stop;
}
