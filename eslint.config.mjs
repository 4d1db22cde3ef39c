// ESLint flat config. Type-aware rules everywhere; determinism rules for workflows/.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.longrl/**', 'bin/**', 'scripts/**', 'eslint.config.mjs', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Workflow code is replayed: it must be deterministic. Temporal's sandbox would fail at
    // run time; this fails at lint time with the reason.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows must not use Node built-ins (non-deterministic); do it in an activity.' }))
          .concat([{ name: 'onnxruntime-node', message: 'Workflows must not touch the engine; call a compute activity.' }]),
        patterns: [
          { group: ['**/engine', '**/engine/**'], message: 'Workflows must not import engine/: call a compute activity.' },
          { group: ['**/infra/**', '**/activities/*', '!**/activities/types'], message: 'Workflows may import only activity types (import type).', allowTypeImports: true },
          { group: ['onnxruntime-*', '@temporalio/worker', '@temporalio/client', '@temporalio/activity'], message: 'Not allowed in workflow code.' },
        ],
      }],
    },
  },
);
