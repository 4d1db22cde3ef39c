/**
 * longrl run configuration: schema (pure), validation (pure) and loading (Node).
 *
 * Workflow code must import `config/schema` or `config/validate` directly: this index also
 * re-exports `load.ts`, which uses Node built-ins.
 */
export * from './schema';
export * from './validate';
export * from './load';
