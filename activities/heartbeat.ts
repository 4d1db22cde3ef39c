/**
 * Heartbeats around engine calls: the engine runs in its own thread, so the activity's event
 * loop stays free to heartbeat on a timer while it waits, and to pass Temporal's
 * cancellation to the engine (honoured between micro-batches / decode steps).
 */
import { Context } from '@temporalio/activity';

/** Run `fn`, heartbeating `details()` every `everyMs` (default 2 s) until it settles. */
export async function withHeartbeats<T>(fn: (signal: AbortSignal) => Promise<T>, details: () => unknown, everyMs = 2000): Promise<T> {
  const ctx = Context.current();
  ctx.heartbeat(details());
  const timer = setInterval(() => ctx.heartbeat(details()), everyMs);
  try {
    return await fn(ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}
