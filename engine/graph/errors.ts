/**
 * Typed errors of the graph builder. Each carries the op name and the shapes or dtypes
 * involved, so a failure at graph-build time says which op, what it got, and what to do.
 */

/** Base class of every graph-building error. */
export class GraphError extends Error {
  override readonly name: string = 'GraphError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Shapes of an op's inputs do not fit together (found by build-time shape inference). */
export class ShapeError extends GraphError {
  override readonly name = 'ShapeError';
  constructor(
    readonly op: string,
    readonly shapes: readonly (readonly (number | string)[])[],
    readonly detail: string,
  ) {
    super(`${op}: ${detail} (input shapes: ${shapes.map((s) => `[${s.join(', ')}]`).join(', ')})`);
  }
}

/** An op got an input of a dtype it does not accept, or inputs of mixed dtypes. */
export class DTypeError extends GraphError {
  override readonly name = 'DTypeError';
  constructor(readonly op: string, readonly dtypes: readonly string[], readonly detail: string) {
    super(`${op}: ${detail} (input dtypes: ${dtypes.join(', ')})`);
  }
}

/** An op has no VJP rule in the gradient table; add one to engine/graph/grad.ts. */
export class MissingGradientRuleError extends GraphError {
  override readonly name = 'MissingGradientRuleError';
  constructor(readonly op: string) {
    super(`grad: no VJP rule for op '${op}'; add one to VJP_RULES in engine/graph/grad.ts or build the op from primitives`);
  }
}

/** grad() of a tensor that is not a scalar was asked for without an explicit seed. */
export class NonScalarLossError extends GraphError {
  override readonly name = 'NonScalarLossError';
  constructor(readonly shape: readonly (number | string)[]) {
    super(`grad: loss has shape [${shape.join(', ')}], not a scalar; pass { seed } with the same shape, or reduce the loss first`);
  }
}

/** A gradient rule cannot handle this configuration (e.g. a dynamic dim it needs statically). */
export class GradientError extends GraphError {
  override readonly name = 'GradientError';
  constructor(readonly op: string, readonly detail: string) {
    super(`grad of ${op}: ${detail}`);
  }
}

/** Tensors from two different graphs were combined, or a name was used twice. */
export class GraphUsageError extends GraphError {
  override readonly name = 'GraphUsageError';
  constructor(message: string) {
    super(message);
  }
}
