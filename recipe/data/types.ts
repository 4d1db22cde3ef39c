/** Shapes of recipe data items (synthetic and loaded). */

/** Question kinds of the synthetic generator. */
export type QuestionKind = 'single' | 'multihop' | 'numeric' | 'choice';

/** A QA item as the recipe uses it: one document, one question, one gold answer. */
export interface RecipeItem {
  /** Unique within a dataset. */
  id: string;
  /** Routes to a verifier (see rewards/routing.ts), e.g. `docmath`, `musique`, `synthetic_docqa`. */
  data_source: string;
  document: string;
  question: string;
  /** Gold answer in its bare form ("417", "Tano", "B"). */
  answer: string;
  /** Other accepted forms of the answer; scored as max over [answer, ...aliases]. */
  aliases?: string[];
  /** Multiple-choice options, rendered as (A), (B), ... after the question. */
  options?: string[];
  /** 'choice' when the question is multiple choice but its options are part of `question` (loaded data). */
  answer_format?: 'answer' | 'choice';
  /** Worked answer for warm-up SFT, in the recipe's format ("... Therefore , the answer is X ."). */
  sft_response?: string;
  meta?: Record<string, unknown>;
}

/** Metadata of a synthetic item. */
export interface SyntheticMeta {
  kind: QuestionKind;
  /** Facts that must be chained to answer (1 for single and choice, 2-3 for multi-hop, 2 for numeric). */
  hops: number;
  /** Number of distractor fact sentences in the document. */
  distractors: number;
  /** Target length in tokens (of the prompt or the document, see SyntheticConfig.lengthOf). */
  targetTokens: number;
  /** Measured length in tokens of the same thing. */
  actualTokens: number;
  docId: string;
  split: string;
  /** The supporting fact sentences, verbatim as they occur in the document. */
  facts: string[];
}

/** A synthetic item: every optional field of RecipeItem that the generator always fills. */
export interface SyntheticItem extends RecipeItem {
  sft_response: string;
  meta: SyntheticMeta & Record<string, unknown>;
}
