/**
 * User-facing errors: bad input or environment that the user can fix. The CLI prints their
 * message as one line (no stack trace) and exits with code 2.
 */
export class UserError extends Error {
  override readonly name: string = 'UserError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The Temporal CLI could not be found or installed by any route. */
export class TemporalCliError extends UserError {
  override readonly name = 'TemporalCliError';
  constructor(message: string, readonly attempts: readonly string[] = []) {
    super(message);
  }
}

/** A Temporal server address did not answer, or something else owns the port. */
export class TemporalConnectError extends UserError {
  override readonly name = 'TemporalConnectError';
  constructor(message: string, readonly address: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
