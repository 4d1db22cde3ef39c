/**
 * Validation of run configs into `ConfigError`s whose every line names a config path:
 *
 *     invalid run config (preset 'quick'): 2 problems
 *       rl.phases[1].maxInputTokens: must be > rl.phases[0].maxInputTokens (2000)
 *       rl.lossx: unknown key; valid keys of rl: phases, trainBatchSize, ...
 *
 * Pure (zod only, no Node built-ins): workflow code may validate a config it receives.
 */
import { z } from 'zod';
import { RunConfigSchema, type RunConfig } from './schema';

/** One problem in a config: a dotted path (`rl.phases[1].steps`) and what is wrong there. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
  /** The YAML file the position refers to, when known. */
  readonly file?: string;
  /** 1-based position in the source text, when known (YAML/JSON syntax errors, YAML fields). */
  readonly line?: number;
  readonly column?: number;
}

/** A run config that cannot be used; `issues` lists every problem found, each with its path. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** Where the config came from: `preset 'quick'`, a file path, `JSON input`, `--set`. */
    readonly source: string,
    readonly issues: readonly ConfigIssue[],
    options?: { cause?: unknown },
  ) {
    super(formatConfigIssues(source, issues), options);
  }
}

/** The multi-line message of a `ConfigError`. */
export function formatConfigIssues(source: string, issues: readonly ConfigIssue[]): string {
  const n = issues.length;
  const head = `invalid run config (${source}): ${n} problem${n === 1 ? '' : 's'}`;
  const lines = issues.map((i) => `  ${formatIssue(i)}`);
  return [head, ...lines].join('\n');
}

/**
 * One issue as a line: `path: message` followed by ` (at file:line:column)` when the position
 * is known; an issue without a path (a syntax error) starts with `file:line:column: `.
 */
export function formatIssue(issue: ConfigIssue): string {
  const { path, message, file, line, column = 1 } = issue;
  if (!path) {
    if (file !== undefined && line !== undefined) return `${file}:${line}:${column}: ${message}`;
    if (line !== undefined) return `${message} (line ${line}, column ${column})`;
    return file !== undefined ? `${file}: ${message}` : message;
  }
  if (line === undefined) return `${path}: ${message}`;
  return `${path}: ${message} (at ${file !== undefined ? `${file}:` : 'line '}${file !== undefined ? `${line}:${column}` : `${line}, column ${column}`})`;
}

/** `['rl', 'phases', 1, 'steps']` -> `rl.phases[1].steps`; `[]` -> `` (the root). */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Walking the schema (for unknown-key messages and `--set` paths)
// ---------------------------------------------------------------------------------------------

interface ZodDefLike {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  items?: z.ZodType[];
  options?: z.ZodType[];
  discriminator?: string;
  values?: unknown[];
}

function defOf(schema: z.ZodType): ZodDefLike {
  return (schema as unknown as { _zod: { def: ZodDefLike } })._zod.def;
}

/** Strip optional/default/prefault/nullable/pipe wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const d = defOf(s);
    if ((d.type === 'optional' || d.type === 'default' || d.type === 'prefault' || d.type === 'nullable' || d.type === 'readonly') && d.innerType) s = d.innerType;
    else if (d.type === 'pipe' && d.in) s = d.in;
    else return s;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The object schema for a union at a point of the input: by its discriminator value when the
 * input has a known one, else the first option (for listing keys) or every option (`all`).
 */
function unionOptions(schema: z.ZodType, value: unknown): z.ZodType[] {
  const d = defOf(schema);
  const options = (d.options ?? []).map(unwrap);
  if (d.discriminator && isPlainObject(value)) {
    const disc = value[d.discriminator];
    const match = options.find((o) => {
      const lit = defOf(unwrap(defOf(o).shape?.[d.discriminator as string] ?? o));
      return lit.values?.includes(disc);
    });
    if (match) return [match];
  }
  return options;
}

/**
 * Result of following a path into the schema; on failure `depth` is the index of the segment
 * that could not be followed and `reason` a full sentence (or `'unknown key'` with `validKeys`).
 */
export type SchemaLookup =
  | { ok: true; schema: z.ZodType }
  | { ok: false; depth: number; at: string; segment: string | number; validKeys?: string[]; reason: string };

/**
 * Follow `path` into the run config schema. `input` is the raw config being built (used to
 * pick the variant of a discriminated union such as `data.source`). Array indices must be
 * within the input array or equal to its length (append).
 */
export function lookupSchemaPath(path: readonly (string | number)[], input: unknown, root: z.ZodType = RunConfigSchema): SchemaLookup {
  let schema = unwrap(root);
  let value: unknown = input;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const at = formatPath(path.slice(0, i));
    let d = defOf(schema);
    if (d.type === 'union') {
      const opts = unionOptions(schema, value);
      const withKey = typeof seg === 'string' ? opts.find((o) => defOf(o).shape && seg in (defOf(o).shape as object)) : undefined;
      schema = withKey ?? opts[0];
      d = defOf(schema);
    }
    if (d.type === 'object' && d.shape) {
      if (typeof seg !== 'string' || !Object.prototype.hasOwnProperty.call(d.shape, seg)) {
        return { ok: false, depth: i, at, segment: seg, validKeys: Object.keys(d.shape), reason: typeof seg === 'number' ? `${at || 'the top level'} is a mapping, not a list: use .key` : 'unknown key' };
      }
      schema = unwrap(d.shape[seg]);
      value = isPlainObject(value) ? value[seg] : undefined;
    } else if (d.type === 'array' && d.element) {
      if (typeof seg !== 'number') return { ok: false, depth: i, at, segment: seg, reason: `${at} is a list: use an index such as ${at}[0]` };
      const len = Array.isArray(value) ? value.length : 0;
      if (seg > len) return { ok: false, depth: i, at, segment: seg, reason: `index ${seg} is out of range: ${at} has ${len} entr${len === 1 ? 'y' : 'ies'}; use ${at}[${len}] to append` };
      schema = unwrap(d.element);
      value = Array.isArray(value) ? value[seg] : undefined;
    } else if (d.type === 'tuple' && d.items) {
      if (typeof seg !== 'number' || seg >= d.items.length) return { ok: false, depth: i, at, segment: seg, reason: `${at} is a list of ${d.items.length} values: use an index from [0] to [${d.items.length - 1}]` };
      schema = unwrap(d.items[seg]);
      value = Array.isArray(value) ? value[seg] : undefined;
    } else {
      return { ok: false, depth: i, at, segment: seg, reason: `${at} is a single value, it has no fields` };
    }
  }
  return { ok: true, schema };
}

/** The valid keys of the object at `path` in the schema (for unknown-key messages). */
export function validKeysAt(path: readonly (string | number)[], input: unknown): string[] {
  const found = lookupSchemaPath(path, input);
  if (!found.ok) return [];
  let s = unwrap(found.schema);
  if (defOf(s).type === 'union') s = unionOptions(s, valueAt(input, path))[0];
  return Object.keys(defOf(s).shape ?? {});
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let v = input;
  for (const seg of path) {
    if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
    else if (isPlainObject(v) && typeof seg === 'string') v = v[seg];
    else return undefined;
  }
  return v;
}

/** Case-insensitive edit distance with adjacent transpositions (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[x.length][y.length];
}

/** ` (did you mean 'steps'?)` when one valid key is close to `key`, else ``. */
export function suggestKey(key: string, valid: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const v of valid) {
    const d = editDistance(key, v);
    if (d < bestD) { bestD = d; best = v; }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(key.length / 3)) ? ` (did you mean '${best}'?)` : '';
}

/** The message for an unknown key `key` under `parentPath`. */
export function unknownKeyMessage(parentPath: string, key: string, valid: readonly string[]): string {
  const under = parentPath ? `of ${parentPath}` : 'at the top level';
  return `unknown key${suggestKey(key, valid)}; valid keys ${under}: ${valid.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------
// zod issues -> ConfigIssues
// ---------------------------------------------------------------------------------------------

/** A value as shown in messages: strings quoted, objects and lists named. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

const ZOD_DEFAULT_MESSAGE = /^(Invalid|Too small|Too big|Unrecognized)/;

function typeName(expected: string): string {
  switch (expected) {
    case 'object': return 'a mapping';
    case 'array': case 'tuple': return 'a list';
    case 'int': return 'an integer';
    case 'number': return 'a number';
    case 'string': return 'a string';
    case 'boolean': return 'true or false';
    default: return expected;
  }
}

function bound(iss: { minimum?: unknown; maximum?: unknown; inclusive?: boolean }, op: 'min' | 'max'): string {
  const v = op === 'min' ? iss.minimum : iss.maximum;
  const sym = op === 'min' ? (iss.inclusive ? '>=' : '>') : (iss.inclusive ? '<=' : '<');
  return `${sym} ${String(v)}`;
}

/** Translate one zod issue into config issues (unknown keys give one issue per key). */
export function toConfigIssues(iss: z.core.$ZodIssue, input: unknown): ConfigIssue[] {
  const path = iss.path as (string | number)[];
  const p = formatPath(path);
  const raw = (iss as { input?: unknown }).input;
  const got = `(got ${describeValue(raw)})`;
  const custom = !ZOD_DEFAULT_MESSAGE.test(iss.message);
  switch (iss.code) {
    case 'unrecognized_keys': {
      const valid = validKeysAt(path, input);
      return iss.keys.map((k) => ({ path: formatPath([...path, k]), message: unknownKeyMessage(p, k, valid) }));
    }
    case 'invalid_type': {
      if (raw === undefined) return [{ path: p, message: 'required' }];
      if (iss.expected === 'int') return [{ path: p, message: `must be an integer ${got}` }];
      return [{ path: p, message: `must be ${typeName(iss.expected)} ${got}` }];
    }
    case 'too_small': {
      if (custom) return [{ path: p, message: iss.message }];
      if (iss.origin === 'array') return [{ path: p, message: `must have at least ${String(iss.minimum)} entr${iss.minimum === 1 ? 'y' : 'ies'}` }];
      if (iss.origin === 'string') return [{ path: p, message: iss.minimum === 1 ? 'must not be empty' : `must have at least ${String(iss.minimum)} characters` }];
      return [{ path: p, message: `must be ${bound(iss, 'min')} ${got}` }];
    }
    case 'too_big': {
      if (custom) return [{ path: p, message: iss.message }];
      if (iss.origin === 'array') return [{ path: p, message: `must have at most ${String(iss.maximum)} entries` }];
      if (iss.origin === 'string') return [{ path: p, message: `must have at most ${String(iss.maximum)} characters` }];
      return [{ path: p, message: `must be ${bound(iss, 'max')} ${got}` }];
    }
    case 'invalid_value': {
      const opts = iss.values.map((v) => describeValue(v));
      return [{ path: p, message: opts.length === 1 ? `must be ${opts[0]} ${got}` : `must be one of ${opts.join(', ')} ${got}` }];
    }
    case 'invalid_union': {
      const u = iss as { discriminator?: string; options?: unknown[] };
      if (u.discriminator && u.options) {
        const v = isPlainObject(raw) ? raw[u.discriminator] : undefined;
        const opts = u.options.map((o) => describeValue(o)).join(', ');
        return [{ path: p, message: v === undefined ? `required: one of ${opts}` : `must be one of ${opts} (got ${describeValue(v)})` }];
      }
      return [{ path: p, message: custom ? iss.message : `does not match any allowed form ${got}` }];
    }
    default:
      return [{ path: p, message: custom ? iss.message : `${iss.message} ${got}` }];
  }
}

/**
 * Validate a raw config object (from YAML or JSON) and return the resolved `RunConfig`
 * (every default filled in). Throws `ConfigError` listing every problem with its path.
 * `source` says where the config came from, for the error message.
 */
export function validateConfig(raw: unknown, source = 'config'): RunConfig {
  const r = RunConfigSchema.safeParse(raw ?? {}, { reportInput: true });
  if (r.success) return r.data;
  const issues = r.error.issues.flatMap((iss) => toConfigIssues(iss, raw));
  throw new ConfigError(source, issues);
}

/** Like `validateConfig` but returns the issues instead of throwing. */
export function checkConfig(raw: unknown): { ok: true; config: RunConfig } | { ok: false; issues: ConfigIssue[] } {
  const r = RunConfigSchema.safeParse(raw ?? {}, { reportInput: true });
  if (r.success) return { ok: true, config: r.data };
  return { ok: false, issues: r.error.issues.flatMap((iss) => toConfigIssues(iss, raw)) };
}
