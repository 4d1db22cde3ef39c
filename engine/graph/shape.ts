/**
 * Shapes: each dim is a static number or a named dynamic dim (a string such as 'B' or 'T').
 * Products of named dims are written canonically as 'B*T' (optionally with a numeric
 * factor first: '4*T'), so Reshape can infer `-1` symbolically.
 */
export type Dim = number | string;
export type Shape = readonly Dim[];

export function isStatic(s: Shape): s is readonly number[] {
  return s.every((d) => typeof d === 'number');
}

/** Number of elements if all dims are static, else null. */
export function numel(s: Shape): number | null {
  let n = 1;
  for (const d of s) {
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return n;
}

interface Mono { c: number; syms: string[] }

function toMono(d: Dim): Mono {
  if (typeof d === 'number') return { c: d, syms: [] };
  const parts = d.split('*');
  let c = 1;
  const syms: string[] = [];
  for (const p of parts) {
    if (/^\d+$/.test(p)) c *= Number(p);
    else syms.push(p);
  }
  return { c, syms };
}

function fromMono(m: Mono): Dim {
  if (m.syms.length === 0) return m.c;
  const syms = [...m.syms].sort();
  return (m.c === 1 ? '' : `${m.c}*`) + syms.join('*');
}

/** Product of dims (symbolic when any is named). */
export function dimProduct(dims: readonly Dim[]): Dim {
  const m: Mono = { c: 1, syms: [] };
  for (const d of dims) {
    const x = toMono(d);
    m.c *= x.c;
    m.syms.push(...x.syms);
  }
  return fromMono(m);
}

/** a / b when it divides exactly (symbols cancel), else null. */
export function dimDivide(a: Dim, b: Dim): Dim | null {
  const x = toMono(a);
  const y = toMono(b);
  if (y.c === 0 || x.c % y.c !== 0) return null;
  const syms = [...x.syms];
  for (const s of y.syms) {
    const i = syms.indexOf(s);
    if (i < 0) return null;
    syms.splice(i, 1);
  }
  return fromMono({ c: x.c / y.c, syms });
}

/**
 * Numpy broadcast of two dims; null when they cannot broadcast. A named dim against a
 * static dim > 1 takes the static one (the runtime value must match); two different
 * names are refused (they would need a runtime check).
 */
export function broadcastDim(a: Dim, b: Dim): Dim | null {
  if (a === b) return a;
  if (a === 1) return b;
  if (b === 1) return a;
  if (typeof a === 'number' && typeof b === 'number') return null;
  if (typeof a === 'number') return a;
  if (typeof b === 'number') return b;
  return null;
}

/** Broadcast shape of several shapes, or null when they do not broadcast. */
export function broadcastShapes(shapes: readonly Shape[]): Dim[] | null {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const j = i - (rank - s.length);
      if (j < 0) continue;
      const r = broadcastDim(d, s[j]);
      if (r === null) return null;
      d = r;
    }
    out.push(d);
  }
  return out;
}

export function shapeToString(s: Shape): string {
  return `[${s.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
