/**
 * Duration strings of the config (`'500ms'`, `'30s'`, `'10m'`, `'2h'`, `'1d'`). Pure, with no
 * dependencies, so workflow code can read them too.
 */
export const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Milliseconds of a duration string validated by the schema (`'10m'` -> 600000). */
export function durationMs(text: string): number {
  const m = DURATION_RE.exec(text);
  if (!m) throw new RangeError(`not a duration: '${text}' (expected e.g. '30s', '10m')`);
  const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unitMs;
}
