/** Reading activity failures in workflow code. */
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, TemporalFailure } from '@temporalio/workflow';

/** The ApplicationFailure type at the root of an activity/child failure, if any. */
export function failureType(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 8 && e; i++) {
    if (e instanceof ApplicationFailure) return e.type ?? undefined;
    if (e instanceof ActivityFailure || e instanceof ChildWorkflowFailure || e instanceof TemporalFailure) e = e.cause;
    else return undefined;
  }
  return undefined;
}

/**
 * The activity's (or child's) own error text: descend through the Temporal wrappers to the
 * first ApplicationFailure with a message, and stop there (its own `cause`, such as the errno
 * behind a DiskFullError, says less than the error that wrapped it).
 */
export function failureMessage(err: unknown): string {
  let e: unknown = err;
  let msg = e instanceof Error ? e.message : String(e);
  for (let i = 0; i < 8 && e instanceof Error; i++) {
    if (e instanceof ApplicationFailure && e.message) return e.message;
    if (e.message) msg = e.message;
    if (!(e instanceof ActivityFailure || e instanceof ChildWorkflowFailure || e instanceof TemporalFailure)) return msg;
    e = (e as { cause?: unknown }).cause;
  }
  return msg;
}

export function isModelStateLost(err: unknown): boolean {
  return failureType(err) === 'ModelStateLost';
}
