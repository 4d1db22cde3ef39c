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

/** The most specific message in a failure chain (the activity's own error text). */
export function failureMessage(err: unknown): string {
  let e: unknown = err;
  let msg = e instanceof Error ? e.message : String(e);
  for (let i = 0; i < 8 && e instanceof Error; i++) {
    if (e.message) msg = e.message;
    e = (e as { cause?: unknown }).cause;
  }
  return msg;
}

export function isModelStateLost(err: unknown): boolean {
  return failureType(err) === 'ModelStateLost';
}
