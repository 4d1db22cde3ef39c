/**
 * Loading a run config: a preset (`config/presets/<name>.yaml`) and/or a YAML file, then
 * `--set key=value` overrides, validated into a resolved `RunConfig` with its canonical YAML
 * and a short sha256 so the run can store exactly what it trained with.
 *
 * Precedence (later wins): schema defaults < preset < file < each `--set` in order.
 * Objects merge key by key; lists and scalars replace; `null` removes a key (back to its
 * default).
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { LineCounter, parse as parseYamlValue, parseDocument, stringify as stringifyYaml, isMap, isSeq, isScalar, type Document, type Node as YamlNode } from 'yaml';
import { sha256 } from '../infra/store/atomic';
import { type RunConfig } from './schema';
import {
  ConfigError, checkConfig, describeValue, formatPath, lookupSchemaPath, suggestKey, unknownKeyMessage, type ConfigIssue,
} from './validate';

/** What `loadConfig` and `parseConfigJson` return. */
export interface LoadedConfig {
  /** The validated config with every default filled in. */
  readonly config: RunConfig;
  /** Canonical YAML of `config` (with a comment header): store it with the run. */
  readonly resolvedYaml: string;
  /** First 12 hex digits of `sha256` (for ids, search attributes, memo). */
  readonly hash: string;
  /** sha256 of the canonical JSON of `config` (keys sorted). */
  readonly sha256: string;
  /** Where it came from, e.g. `preset 'quick' + 1 --set`. */
  readonly source: string;
}

export interface LoadConfigOptions {
  /** A preset name (`quick`, `default`, `paper`): `config/presets/<name>.yaml`. */
  readonly preset?: string;
  /** A YAML file; merged over the preset when both are given. */
  readonly file?: string;
  /** `key=value` overrides with dotted paths and indices (`rl.phases[1].steps=30`); values are YAML scalars. */
  readonly sets?: readonly string[];
}

/** The folder of the preset YAML files (works from `config/` and from `dist/config/`). */
export function presetDir(): string {
  const candidates = [path.join(__dirname, 'presets'), path.resolve(__dirname, '..', '..', 'config', 'presets')];
  return candidates.find((d) => fs.existsSync(d)) ?? candidates[candidates.length - 1];
}

/** Names of the presets shipped in `config/presets/`, sorted. */
export function listPresets(): string[] {
  try {
    return fs.readdirSync(presetDir()).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
  } catch {
    return [];
  }
}

/**
 * Interpret a CLI `--config` argument: a preset name when one of that name exists and the
 * argument has no path separator or extension, else a YAML file path.
 */
export function configArg(arg: string): { preset: string } | { file: string } {
  const looksLikePath = /[\\/]/.test(arg) || /\.ya?ml$/i.test(arg);
  return !looksLikePath && listPresets().includes(arg) ? { preset: arg } : { file: arg };
}

// ---------------------------------------------------------------------------------------------
// YAML reading with positions
// ---------------------------------------------------------------------------------------------

interface YamlSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
  readonly value: unknown;
}

/** Parse YAML text; syntax errors become a `ConfigError` with file, line and column. */
export function parseYamlConfig(text: string, file: string, source = file): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => {
      const pos = lines.linePos(e.pos[0]);
      return { path: '', file, line: pos.line, column: pos.col, message: `YAML syntax error: ${e.message}` };
    });
    throw new ConfigError(source, issues);
  }
  const value: unknown = doc.toJS() ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(source, [{ path: '', file, line: 1, column: 1, message: `the top level must be a mapping of sections (run, model, rl, ...), got ${describeValue(value)}` }]);
  }
  return { file, doc, lines, value };
}

/**
 * Line and column (1-based) of `path` in a YAML document: the key's position when it is
 * written there; with `exact` false, else (a missing field) that of its deepest written
 * ancestor below the root.
 */
function locate(src: YamlSource, segments: readonly (string | number)[], exact: boolean): { line: number; column: number } | undefined {
  let node: unknown = src.doc.contents;
  let at: YamlNode | undefined;
  for (const seg of segments) {
    let next: unknown;
    let key: YamlNode | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === seg);
      key = (pair?.key as YamlNode | null | undefined) ?? undefined;
      next = pair?.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
      key = (next as YamlNode | undefined) ?? undefined;
    }
    if (key === undefined) {
      if (exact) return undefined;
      break;
    }
    at = key;
    node = next;
  }
  if (at === undefined) return undefined;
  const range = at.range;
  if (!range) return undefined;
  const pos = src.lines.linePos(range[0]);
  return { line: pos.line, column: pos.col };
}

// ---------------------------------------------------------------------------------------------
// Paths, merging, --set
// ---------------------------------------------------------------------------------------------

/**
 * `rl.phases[1].steps` -> `['rl', 'phases', 1, 'steps']`. Returns undefined when the text is
 * not a path (keys are identifiers; indices are non-negative integers in brackets).
 */
export function parsePath(text: string): (string | number)[] | undefined {
  const re = /^(?:([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\])/;
  const out: (string | number)[] = [];
  let rest = text;
  let first = true;
  while (rest.length > 0) {
    if (!first && !rest.startsWith('[')) {
      if (!rest.startsWith('.')) return undefined;
      rest = rest.slice(1);
    }
    const m = re.exec(rest);
    if (!m || (first && m[2] !== undefined)) return undefined;
    out.push(m[1] !== undefined ? m[1] : Number(m[2]));
    rest = rest.slice(m[0].length);
    first = false;
  }
  return out.length > 0 ? out : undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects key by key, lists and scalars replaced, `null` deletes the key. */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = k in out ? mergeConfig(out[k], v) : v;
  }
  return out;
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/**
 * Apply one `key=value` override to a raw config object (mutated and returned). The path is
 * checked against the schema; the value is parsed as YAML (`30`, `true`, `1e-4`, `[0.9, 0.95]`),
 * except that a field of string type keeps the text as written. Throws `ConfigError`.
 */
export function applySet(raw: Record<string, unknown>, assignment: string): Record<string, unknown> {
  const source = `--set ${assignment}`;
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new ConfigError(source, [{ path: '', message: `--set '${assignment}': expected key=value, e.g. rl.phases[1].steps=30` }]);
  const keyText = assignment.slice(0, eq).trim();
  const valueText = assignment.slice(eq + 1);
  const segments = parsePath(keyText);
  if (!segments) {
    throw new ConfigError(source, [{ path: keyText, message: "--set: not a config path; use dotted keys and [index], e.g. rl.phases[1].steps=30" }]);
  }
  const found = lookupSchemaPath(segments, raw);
  if (!found.ok) {
    const shown = formatPath(segments.slice(0, found.depth + 1));
    const message = found.reason === 'unknown key' && found.validKeys
      ? `--set: ${unknownKeyMessage(found.at, String(found.segment), found.validKeys)}`
      : `--set: ${found.reason}`;
    throw new ConfigError(source, [{ path: shown, message }]);
  }
  let value: unknown;
  try {
    value = valueText.trim() === '' ? null : parseYamlValue(valueText);
  } catch (err) {
    throw new ConfigError(source, [{ path: keyText, message: `--set: the value '${valueText}' is not valid YAML (${(err as Error).message.split('\n')[0]})` }]);
  }
  const def = (found.schema as unknown as { _zod: { def: { type: string } } })._zod.def;
  if (def.type === 'string' && value !== null && typeof value !== 'string' && typeof value !== 'object') value = valueText.trim();

  let node: Record<string, unknown> | unknown[] = raw;
  for (let i = 0; i < segments.length - 1; i++) {
    const seg = segments[i];
    const nextIsIndex = typeof segments[i + 1] === 'number';
    const cur = (node as Record<string | number, unknown>)[seg];
    if (nextIsIndex ? !Array.isArray(cur) : !isPlainObject(cur)) (node as Record<string | number, unknown>)[seg] = nextIsIndex ? [] : {};
    node = (node as Record<string | number, unknown>)[seg] as Record<string, unknown> | unknown[];
  }
  const last = segments[segments.length - 1];
  if (value === null) {
    if (Array.isArray(node) && typeof last === 'number') node.splice(last, 1);
    else delete (node as Record<string, unknown>)[last as string];
  } else {
    (node as Record<string | number, unknown>)[last] = value;
  }
  return raw;
}

// ---------------------------------------------------------------------------------------------
// Canonical form and hash
// ---------------------------------------------------------------------------------------------

/** JSON with object keys sorted recursively (the input to the config hash). */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (isPlainObject(v)) return Object.fromEntries(Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => [k, sort(v[k])]));
    return v;
  };
  return JSON.stringify(sort(value));
}

function finish(config: RunConfig, source: string): LoadedConfig {
  const full = sha256(canonicalJson(config));
  const hash = full.slice(0, 12);
  const header = [
    '# longrl resolved run config (every default filled in; load it with --config <this file>)',
    `# source: ${source}`,
    `# hash: ${hash}`,
  ].join('\n');
  const resolvedYaml = `${header}\n${stringifyYaml(config, { lineWidth: 0 })}`;
  return { config, resolvedYaml, hash, sha256: full, source };
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

async function readText(file: string, source: string): Promise<string> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code ?? String(err);
    throw new ConfigError(source, [{ path: '', file, message: `cannot read config file: ${why}` }], { cause: err });
  }
}

/**
 * Load, merge, override and validate a run config.
 *
 * - `preset`: a name from `listPresets()`; `file`: a YAML path. Neither: preset `quick`.
 * - `sets`: `key=value` overrides applied in order after the preset and file.
 *
 * Throws `ConfigError` (every problem with its config path, and file:line:column for YAML).
 */
export async function loadConfig(opts: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const sets = opts.sets ?? [];
  const presetName = opts.preset ?? (opts.file === undefined ? 'quick' : undefined);
  const parts: string[] = [];
  const sources: YamlSource[] = [];
  let raw: unknown = {};

  if (presetName !== undefined) {
    parts.push(`preset '${presetName}'`);
    const available = listPresets();
    if (!available.includes(presetName)) {
      throw new ConfigError(parts.join(' + '), [{ path: '', message: `unknown preset '${presetName}'${suggestKey(presetName, available)}; available presets: ${available.join(', ')} (or pass a YAML file)` }]);
    }
    const file = path.join(presetDir(), `${presetName}.yaml`);
    const src = parseYamlConfig(await readText(file, parts.join(' + ')), file, parts.join(' + '));
    sources.push(src);
    raw = mergeConfig(raw, src.value);
  }
  if (opts.file !== undefined) {
    parts.push(`file ${opts.file}`);
    const src = parseYamlConfig(await readText(opts.file, parts.join(' + ')), opts.file, parts.join(' + '));
    sources.push(src);
    raw = mergeConfig(raw, src.value);
  }
  if (sets.length > 0) parts.push(sets.map((s) => `--set ${s}`).join(' '));
  const source = parts.join(' + ');

  let obj = clone(raw) as Record<string, unknown>;
  const setIssues: ConfigIssue[] = [];
  const setPaths: string[] = [];
  for (const s of sets) {
    try {
      obj = applySet(obj, s);
      setPaths.push(s.slice(0, s.indexOf('=')).trim());
    } catch (err) {
      if (err instanceof ConfigError) setIssues.push(...err.issues);
      else throw err;
    }
  }
  if (setIssues.length > 0) throw new ConfigError(source, setIssues);

  const checked = checkConfig(obj);
  if (!checked.ok) {
    const issues = checked.issues.map((iss) => locateIssue(iss, sources, setPaths));
    throw new ConfigError(source, issues);
  }
  return finish(checked.config, source);
}

/** Add file:line:column to an issue when its path is written in one of the YAML sources. */
function locateIssue(iss: ConfigIssue, sources: readonly YamlSource[], setPaths: readonly string[]): ConfigIssue {
  if (!iss.path) return iss;
  if (setPaths.some((p) => iss.path === p || iss.path.startsWith(`${p}.`) || iss.path.startsWith(`${p}[`))) return iss;
  const segs = parsePath(iss.path);
  if (!segs) return iss;
  for (const exact of [true, false]) {
    for (let i = sources.length - 1; i >= 0; i--) {
      const pos = locate(sources[i], segs, exact);
      if (pos) return { ...iss, file: sources[i].file, line: pos.line, column: pos.column };
    }
  }
  return iss;
}

/**
 * Validate a config sent as JSON text (e.g. the Temporal UI's Start Workflow input).
 * Invalid JSON: a `ConfigError` with the line and column; invalid config: paths.
 */
export function parseConfigJson(text: string, source = 'JSON input'): LoadedConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const m = / in JSON at position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : /Unexpected end of JSON input/.test(msg) ? text.length : undefined;
    const detail = msg.replace(/ in JSON at position \d+.*$/, '').replace(/, ".*" is not valid JSON$/s, '');
    const issue: ConfigIssue = { path: '', message: `invalid JSON: ${detail}`, ...(pos !== undefined ? lineCol(text, pos) : {}) };
    throw new ConfigError(source, [issue], { cause: err });
  }
  if (!isPlainObject(raw)) {
    throw new ConfigError(source, [{ path: '', message: `the config must be a JSON object of sections (run, model, rl, ...), got ${describeValue(raw)}` }]);
  }
  const checked = checkConfig(raw);
  if (!checked.ok) throw new ConfigError(source, checked.issues);
  return finish(checked.config, source);
}

function lineCol(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

/** A resolved config as a `LoadedConfig` (hash and canonical YAML), e.g. after editing it in code. */
export function resolvedConfig(config: RunConfig, source = 'config'): LoadedConfig {
  return finish(config, source);
}

/**
 * Check that the files a config names exist (`tokenizer.path`, `data.trainPath`,
 * `data.heldoutPath`, `sft.dataPath`), relative paths against `cwd`. Call it before starting a
 * run so a missing dataset fails at once. Throws `ConfigError` listing every missing file.
 */
export async function assertConfigFiles(config: RunConfig, cwd = process.cwd()): Promise<void> {
  const named: [string, string | undefined][] = [
    ['tokenizer.path', config.tokenizer.kind === 'hf' ? config.tokenizer.path : undefined],
    ['data.trainPath', config.data.source !== 'synthetic' ? config.data.trainPath : undefined],
    ['data.heldoutPath', config.data.source !== 'synthetic' ? config.data.heldoutPath : undefined],
    ['sft.dataPath', config.sft.enabled ? config.sft.dataPath : undefined],
  ];
  const issues: ConfigIssue[] = [];
  for (const [p, f] of named) {
    if (f === undefined) continue;
    const abs = path.resolve(cwd, f);
    try {
      const st = await fsp.stat(abs);
      if (!st.isFile()) issues.push({ path: p, message: `${abs} is not a file` });
    } catch {
      issues.push({ path: p, message: `file not found: ${abs}` });
    }
  }
  if (issues.length > 0) throw new ConfigError('files named by the config', issues);
}
