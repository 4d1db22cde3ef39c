/**
 * `data_source` -> verifier routing. QwenLong-L1's reward code routes by substring, in this
 * order: "long_toc_choices" -> choice, "docmath" -> numeric, "multihoprag" or "musique" ->
 * docqa sub-EM. longrl adds its own names (the verifier names themselves and the synthetic
 * sources) and sends anything else to a configurable default verifier with a warning.
 */
import { UnknownVerifierError } from '../errors';

/** The rule verifiers. */
export type VerifierName = 'docqa' | 'docmath' | 'choice';
export const VERIFIER_NAMES: readonly VerifierName[] = ['docqa', 'docmath', 'choice'];

/** Exact data_source names (checked first). */
export const EXACT_ROUTES: Readonly<Record<string, VerifierName>> = {
  docqa: 'docqa',
  docmath: 'docmath',
  choice: 'choice',
  synthetic_docqa: 'docqa',
  synthetic_docmath: 'docmath',
  synthetic_choice: 'choice',
};

/** QwenLong-L1's substring rules, in its order. */
export const SUBSTRING_ROUTES: ReadonlyArray<readonly [string, VerifierName]> = [
  ['long_toc_choices', 'choice'],
  ['docmath', 'docmath'],
  ['multihoprag', 'docqa'],
  ['musique', 'docqa'],
];

/** Checks a verifier name from config or the command line. */
export function parseVerifierName(name: string): VerifierName {
  if ((VERIFIER_NAMES as readonly string[]).includes(name)) return name as VerifierName;
  throw new UnknownVerifierError(name, VERIFIER_NAMES);
}

/** Routing options. */
export interface RouterOptions {
  /** Verifier of unknown data_source names; default 'docqa'. */
  defaultVerifier?: VerifierName;
  /** Extra exact routes, checked before the built-in ones. */
  routes?: Readonly<Record<string, VerifierName>>;
  /** Called once per distinct unknown data_source name (not once per item). */
  onUnknown?: (dataSource: string, routedTo: VerifierName) => void;
}

/**
 * Routes data_source names to verifiers and counts the unknown ones (`unknownCounts`),
 * calling `onUnknown` the first time each unknown name is seen.
 */
export class VerifierRouter {
  readonly unknownCounts = new Map<string, number>();
  private readonly defaultVerifier: VerifierName;

  constructor(private readonly opts: RouterOptions = {}) {
    this.defaultVerifier = parseVerifierName(opts.defaultVerifier ?? 'docqa');
    for (const v of Object.values(opts.routes ?? {})) parseVerifierName(v);
  }

  /** The verifier of `dataSource` and whether the name was known. */
  route(dataSource: string): { verifier: VerifierName; known: boolean } {
    const known = routeKnown(dataSource, this.opts.routes);
    if (known) return { verifier: known, known: true };
    const seen = this.unknownCounts.get(dataSource) ?? 0;
    this.unknownCounts.set(dataSource, seen + 1);
    if (seen === 0) this.opts.onUnknown?.(dataSource, this.defaultVerifier);
    return { verifier: this.defaultVerifier, known: false };
  }

  /** Total number of items routed to the default because their data_source was unknown. */
  get unknownTotal(): number {
    let n = 0;
    for (const c of this.unknownCounts.values()) n += c;
    return n;
  }
}

/** The verifier of a known data_source name, or null. */
export function routeKnown(dataSource: string, extra?: Readonly<Record<string, VerifierName>>): VerifierName | null {
  const exact = extra?.[dataSource] ?? EXACT_ROUTES[dataSource];
  if (exact) return exact;
  for (const [needle, v] of SUBSTRING_ROUTES) if (dataSource.includes(needle)) return v;
  return null;
}
