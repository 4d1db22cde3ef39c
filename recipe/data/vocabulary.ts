/**
 * The closed vocabulary of the synthetic long-context QA generator. Small on purpose: the
 * offline default policy is a ~1M-parameter word-level transformer trained from scratch on
 * CPU, which can learn retrieval over a few hundred words but not over open English.
 * Every word below is a single word-level token (`\w+`).
 */

const ONSETS = ['B', 'D', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P', 'R', 'S', 'T', 'V', 'Z'];
const VOWELS = ['a', 'e', 'i', 'o', 'u'];
const ENDINGS = ['ra', 'no', 'li', 'ka', 'mo', 'te', 'vi', 'su', 'ren', 'dor'];

/**
 * Entity names ("Mira", "Tano", ...): onset + vowel + ending, visited with a stride so the
 * first names differ in every part. Deterministic; at most 800 names.
 */
export function entityNames(n: number): string[] {
  const all: string[] = [];
  for (const e of ENDINGS) for (const v of VOWELS) for (const o of ONSETS) all.push(o + v + e);
  if (n > all.length) throw new RangeError(`at most ${all.length} entity names, asked for ${n}`);
  const out: string[] = [];
  const stride = 37; // coprime with 800: a permutation of all names
  for (let i = 0; out.length < n; i++) out.push(all[(i * stride) % all.length]);
  return out;
}

/** Numeric attributes: "The code of Mira is 417 ." */
export const NUMERIC_ATTRIBUTES = ['code', 'age', 'score', 'budget', 'room', 'rank', 'weight', 'salary'] as const;

/** Categorical attributes and their value sets. */
export const CATEGORICAL_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  city: ['Arvik', 'Belmor', 'Castel', 'Dunmere', 'Elwick', 'Fallow', 'Greyport', 'Holbeck', 'Ironvale', 'Juniper', 'Kestrel', 'Lowmoor', 'Marsh', 'Northam', 'Oakfield', 'Pinecrest'],
  color: ['red', 'blue', 'green', 'yellow', 'white', 'black', 'orange', 'purple', 'gray', 'brown'],
  pet: ['cat', 'dog', 'bird', 'fish', 'horse', 'rabbit', 'goat', 'snake'],
  job: ['baker', 'pilot', 'doctor', 'farmer', 'painter', 'teacher', 'miner', 'sailor', 'singer', 'tailor'],
};

/** Relations between entities, chained by multi-hop questions: "The partner of Mira is Tano ." */
export const RELATIONS = ['partner', 'boss', 'friend', 'neighbor', 'mentor', 'cousin'] as const;

/** Slot words of filler sentences. */
export const FILLER_WORDS = {
  adj: ['calm', 'quiet', 'busy', 'cold', 'warm', 'bright', 'dark', 'long', 'short', 'loud', 'wet', 'dry'],
  noun: ['market', 'river', 'road', 'garden', 'school', 'bridge', 'station', 'library', 'field', 'forest', 'hall', 'tower'],
  time: ['morning', 'evening', 'night', 'day', 'week', 'season', 'winter', 'summer'],
  verb: ['walked', 'waited', 'talked', 'worked', 'rested', 'sang', 'read', 'cooked', 'danced', 'slept'],
} as const;

/**
 * Filler sentence templates; `{adj}`, `{noun}`, `{time}`, `{verb}` take filler words,
 * `{city}` a city and `{name}` an entity name. None has the fact shape "The X of Y is Z",
 * so fillers never state or contradict a fact.
 */
export const FILLER_TEMPLATES = [
  'The {noun} was {adj} that {time} .',
  'People in {city} {verb} near the {noun} .',
  '{name} {verb} by the {noun} in the {time} .',
  'Many visitors came to the {noun} in {city} .',
  'It was a {adj} {time} .',
  'Nobody {verb} at the {noun} .',
  'The {noun} near the {noun} stayed {adj} for a long {time} .',
  '{name} and {name} {verb} together .',
  'Every {time} the {noun} felt {adj} and {adj} .',
  'A {adj} wind moved over the {noun} .',
] as const;

/** Short fillers used to land on the exact length target. */
export const SHORT_FILLER_TEMPLATES = ['Silence .', 'Time passed .', 'It was {adj} .', '{name} {verb} .', 'All was {adj} .'] as const;
