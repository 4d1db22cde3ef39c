/** Tokenizers: word-level (from-scratch policies) and Hugging Face files (real models). */
export { TokenizerFormatError, TokenOutOfVocabError, checkTokenIds } from './errors';
export {
  WordLevelTokenizer, preTokenize, formatChat, PRE_TOKENIZER_REGEX, SPECIAL_TOKENS, CHAT_ROLES, CHAT_TEMPLATE_JINJA,
} from './word-level';
export type { TextTokenizer, WordLevelTrainOptions, HfTokenizerJson, ChatMessage } from './word-level';
export { HfTokenizer, loadTokenizer } from './hf';
