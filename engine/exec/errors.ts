/** Typed errors of the executor: each names the input, output or op involved. */

export class ExecError extends Error {
  override readonly name: string = 'ExecError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A required graph input was not fed. */
export class MissingFeedError extends ExecError {
  override readonly name = 'MissingFeedError';
  constructor(readonly input: string, readonly expected: readonly string[]) {
    super(`missing feed for input '${input}' (the graph's inputs: ${expected.join(', ')})`);
  }
}

/** A feed names no graph input. */
export class UnknownFeedError extends ExecError {
  override readonly name = 'UnknownFeedError';
  constructor(readonly input: string, readonly expected: readonly string[]) {
    super(`feed '${input}' is not an input of the graph (inputs: ${expected.join(', ')})`);
  }
}

/** A feed has the wrong dtype. */
export class FeedDtypeError extends ExecError {
  override readonly name = 'FeedDtypeError';
  constructor(readonly input: string, readonly expected: string, readonly got: string) {
    super(`feed '${input}' has dtype ${got}; the graph expects ${expected}`);
  }
}

/** A feed has the wrong shape (or a named dim disagrees with another feed). */
export class FeedShapeError extends ExecError {
  override readonly name = 'FeedShapeError';
  constructor(readonly input: string, readonly expected: readonly (number | string)[], readonly got: readonly number[], detail = '') {
    super(`feed '${input}' has shape [${got.join(', ')}]; the graph expects [${expected.join(', ')}]${detail ? `: ${detail}` : ''}`);
  }
}

/** onnxruntime refused to load the model (e.g. no kernel for an op/dtype). */
export class CompileError extends ExecError {
  override readonly name = 'CompileError';
  constructor(readonly op: string | undefined, readonly ortMessage: string, options?: { cause?: unknown }) {
    super(`onnxruntime could not load the graph${op ? ` (op ${op})` : ''}: ${ortMessage}`, options);
  }
}

/** onnxruntime failed while running the graph. */
export class RunError extends ExecError {
  override readonly name = 'RunError';
  constructor(readonly op: string | undefined, readonly ortMessage: string, options?: { cause?: unknown }) {
    super(`onnxruntime run failed${op ? ` in op ${op}` : ''}: ${ortMessage}`, options);
  }
}

/** A host call was cancelled before or between runs. */
export class CancelledError extends ExecError {
  override readonly name = 'CancelledError';
  constructor(readonly call: string) {
    super(`call '${call}' was cancelled`);
  }
}

/** The worker-thread host is not running (never started, closed, or crashed). */
export class HostError extends ExecError {
  override readonly name = 'HostError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Extracts the op type from an ORT message naming a node ('... node with name MatMul_12 ...'). */
export function opFromOrtMessage(msg: string): string | undefined {
  // longrl names nodes `${op}_${id}`; ORT quotes the node name in most messages.
  const m = /\b([A-Z][A-Za-z0-9]*)_\d+\b/.exec(msg) ?? /kernel for (?:[\w.]+\.)?([A-Z][A-Za-z0-9]*)\(\d+\)/.exec(msg);
  return m ? m[1] : undefined;
}
