/**
 * Typed errors of the pure recipe modules. Each carries readonly context (file, line,
 * field, config path, names) and a message that says what was wrong, where, and what to do.
 *
 * This file must stay free of Node built-ins: the curriculum and algorithm modules that
 * throw these errors are imported by Temporal workflow code.
 */

/** Base class of every recipe error, so callers can catch the family. */
export class RecipeError extends Error {
  /** The message says what to fix: the CLI prints it as one line, without a stack. */
  readonly userFacing = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A config value is out of range or inconsistent; `path` is the config path (e.g. `retrospective.fraction`). */
export class RecipeConfigError extends RecipeError {
  constructor(readonly path: string, readonly problem: string) {
    super(`config ${path}: ${problem}`);
  }
}

/**
 * A data line or row is malformed. `line` is 1-based (a JSONL line, or a Parquet row number
 * with `unit: 'row'`; 0 for the file as a whole),
 * `field` the offending field (dotted path, e.g. `reward_model.ground_truth`).
 */
export class DataFormatError extends RecipeError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string,
    readonly problem: string,
    options?: { cause?: unknown; unit?: 'line' | 'row' },
  ) {
    super(`${options?.unit === 'row' ? `${file} row ${line}` : `${file}:${line}`}: field ${field}: ${problem}`, options);
  }
}

/** A gold answer cannot be scored by its verifier (empty, or a non-numeric docmath answer). */
export class GoldAnswerError extends RecipeError {
  constructor(readonly verifier: string, readonly answer: string, readonly problem: string) {
    super(`gold answer ${JSON.stringify(answer.slice(0, 80))} (${verifier} verifier): ${problem}`);
  }
}

/** The synthetic generator cannot meet a request (e.g. a length target below the minimum prompt). */
export class GeneratorError extends RecipeError {
  constructor(readonly path: string, readonly problem: string) {
    super(`synthetic generator (${path}): ${problem}`);
  }
}

/** An unknown advantage estimator name; the message lists the valid ones. */
export class UnknownAdvantageEstimatorError extends RecipeError {
  constructor(readonly requested: string, readonly valid: readonly string[]) {
    super(`unknown advantage estimator ${JSON.stringify(requested)}; valid names: ${valid.join(', ')}`);
  }
}

/** An unknown verifier name; the message lists the valid ones. */
export class UnknownVerifierError extends RecipeError {
  constructor(readonly requested: string, readonly valid: readonly string[]) {
    super(`unknown verifier ${JSON.stringify(requested)}; valid names: ${valid.join(', ')}`);
  }
}

/**
 * DAPO dynamic sampling generated `genBatches` batches (the configured maximum) and kept
 * only `kept` of the `needed` groups. Raise `max_num_gen_batches`, lower the batch size,
 * or enable training on the partial batch.
 */
export class DynamicSamplingExhaustedError extends RecipeError {
  constructor(readonly kept: number, readonly needed: number, readonly genBatches: number, readonly maxGenBatches: number) {
    super(
      `dynamic sampling: kept ${kept} of ${needed} groups after ${genBatches} generation batches ` +
        `(max_num_gen_batches ${maxGenBatches}); most groups had identical accuracy. Raise ` +
        `algorithm.dynamicSampling.maxNumGenBatches, lower the train batch size, or set trainOnPartial`,
    );
  }
}

/**
 * The judge endpoint could not be reached or refused the request after all retries. Never
 * turn this into reward 0: block the step and let an operator fix the endpoint.
 */
export class JudgeUnavailableError extends RecipeError {
  constructor(
    readonly baseURL: string,
    readonly model: string,
    readonly attempts: number,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`judge ${model} at ${baseURL} unavailable after ${attempts} attempt(s): ${problem}`, options);
  }
}

/** The endpoint answered, but not with a chat completion (an HTML error page, a proxy, the wrong path). */
export class JudgeProtocolError extends RecipeError {
  constructor(readonly baseURL: string, readonly model: string, readonly attempts: number, readonly body: string) {
    super(
      `judge ${model} at ${baseURL} did not answer with a chat completion in ${attempts} attempt(s): ${JSON.stringify(body.slice(0, 200))}; ` +
        'check that the base URL is an OpenAI-compatible endpoint (--judge-base-url, reward.judge.baseUrl)',
    );
  }
}

/** The judge answered, but with neither `[[YES]]` nor `[[NO]]`, on every attempt. */
export class JudgeResponseError extends RecipeError {
  constructor(readonly model: string, readonly attempts: number, readonly content: string) {
    super(
      `judge ${model} gave no [[YES]]/[[NO]] verdict in ${attempts} attempt(s); last reply: ` +
        `${JSON.stringify(content.slice(0, 200))}. Use an instruction-following judge model or check its chat template`,
    );
  }
}
