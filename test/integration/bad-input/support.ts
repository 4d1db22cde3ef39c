/**
 * Shared pieces of the bad-input matrix (issue 7.2): run the real CLI and capture its
 * streams separately, assert a user error exactly (exit 2, the exact stderr lines, no stack
 * trace), write tiny checkpoints and datasets, and a local chat-completions test double.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { saveCheckpoint } from '../../../engine/checkpoint';
import { initParams, tinyConfig, type ModelConfig } from '../../../engine/model/config';
import { WordLevelTokenizer } from '../../../engine/tokenizer/word-level';
import { sha256 } from '../../../infra/store/atomic';
import { freePort, longrl } from '../../support/env';

/** What one `node bin/longrl.js ...` run printed, and its exit code. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `longrl ARGS` to completion (stdio fully drained) with stdout and stderr kept apart. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const p = longrl(args, env);
  let stdout = '';
  let stderr = '';
  p.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  p.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => p.child.once('close', (c) => resolve(c)));
  return { code, stdout, stderr };
}

/** A stack frame line (`    at fn (file:1:2)`) or the CLI's bug marker. */
const CRASH_RE = /^\s+at .+[:)]\s*$|internal error/m;

/**
 * A user error as the matrix requires it: exit code 2, nothing on stdout, stderr exactly
 * `lines` (one per line, each ending in a newline), and no stack trace.
 */
export function assertUserError(r: CliResult, lines: readonly string[]): void {
  const shown = `exit ${r.code}\n--- stderr ---\n${r.stderr}--- stdout ---\n${r.stdout}`;
  assert.doesNotMatch(r.stderr, CRASH_RE, `a crash or stack trace instead of a clear error:\n${shown}`);
  assert.equal(r.stderr, lines.map((l) => `${l}\n`).join(''), `stderr differs from the expected error:\n${shown}`);
  assert.equal(r.code, 2, `exit code must be 2 (user error):\n${shown}`);
  assert.equal(r.stdout, '', `nothing may go to stdout:\n${shown}`);
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
export const closedPort = freePort;

/** Write `text` to `dir/name` and return the absolute path. */
export function writeFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** JSON lines, one object per line. */
export function jsonl(rows: readonly unknown[]): string {
  return rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
}

/** A plain-format QA item (loaders.ts `fromPlain`). */
export function qa(document: string, question: string, answer: string): Record<string, string> {
  return { document, question, answer };
}

/** The words the test tokenizer knows (the prompts of `qa` items use some of them). */
const CORPUS = 'the sky is blue grass green what color of one two three answer question text format your response as follows';

/** The tokenizer saved into test checkpoints: word-level, trained on CORPUS (about 30 ids). */
export function testTokenizer(): WordLevelTokenizer {
  return WordLevelTokenizer.train([CORPUS], { maxVocab: 256, minFrequency: 1 });
}

/**
 * Write a tiny Qwen3 checkpoint (1 layer, C 32) with the test tokenizer beside it.
 * `over` changes config.json fields (e.g. `vocab_size` smaller than the tokenizer).
 */
export async function writeCheckpoint(dir: string, over: Partial<ModelConfig> = {}): Promise<{ dir: string; tokenizerSize: number; config: ModelConfig }> {
  const tok = testTokenizer();
  const config = tinyConfig({
    vocab_size: tok.vocabSize, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1,
    num_attention_heads: 2, num_key_value_heads: 1, head_dim: 16, max_position_embeddings: 256, ...over,
  });
  await saveCheckpoint(dir, { config, params: initParams(config, 1), tokenizer: { json: tok.toJson() } });
  return { dir, tokenizerSize: tok.vocabSize, config };
}

/**
 * Rewrite fields of a saved checkpoint's config.json and fix its manifest entry, as a
 * checkpoint of another model family would look (checksums valid, architecture foreign).
 */
export function rewriteConfigJson(dir: string, fields: Record<string, unknown>): void {
  const cfgFile = path.join(dir, 'config.json');
  const text = JSON.stringify({ ...(JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as object), ...fields }, null, 2);
  fs.writeFileSync(cfgFile, text);
  const manFile = path.join(dir, 'manifest.json');
  const man = JSON.parse(fs.readFileSync(manFile, 'utf8')) as { files: Record<string, { sha256: string; bytes: number }> };
  man.files['config.json'] = { sha256: sha256(text), bytes: Buffer.byteLength(text) };
  fs.writeFileSync(manFile, JSON.stringify(man, null, 2));
}

/** How the judge test double answers every POST. */
export type JudgeReply = { status: number; contentType: string; body: string };

/**
 * A TEST DOUBLE of an LLM judge: a local node:http server that speaks the OpenAI
 * chat-completions protocol (`POST /v1/chat/completions`) and answers every request with
 * `reply(requestBody)`. Counts requests. Not a real model.
 */
export async function fakeJudge(reply: (body: string) => JudgeReply): Promise<{ baseUrl: string; requests: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      n++;
      const r = reply(body);
      res.writeHead(r.status, { 'content-type': r.contentType });
      res.end(r.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests: () => n,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A well-formed chat completion whose message content is `content`. */
export function chatCompletion(model: string, content: string): JudgeReply {
  return {
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify({
      id: 'chatcmpl-test', object: 'chat.completion', created: 1, model,
      choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content, refusal: null } }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    }),
  };
}
