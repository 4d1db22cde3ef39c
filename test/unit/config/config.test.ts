import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ConfigError, assertConfigFiles, configArg, durationMs, evalLengthBuckets, listPresets, loadConfig, parseConfigJson,
  parsePath, validateConfig, type ConfigIssue,
} from '../../../config';

/** The config error thrown by `fn`, or a failed assertion when it does not throw one. */
async function configError(fn: () => unknown): Promise<ConfigError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  assert.fail('expected a ConfigError');
}

const lines = (issues: readonly ConfigIssue[]) => issues.map((i) => `${i.path}: ${i.message}`);

describe('config', () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrl-config-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };

  describe('presets', () => {
    it('ships quick, default and paper, and every preset validates', async () => {
      const presets = listPresets();
      for (const p of ['quick', 'default', 'paper']) assert.ok(presets.includes(p), `missing preset ${p}`);
      for (const p of presets) {
        const { config, hash } = await loadConfig({ preset: p });
        assert.match(hash, /^[0-9a-f]{12}$/);
        assert.ok(config.rl.phases.length >= 1);
      }
    });

    it('quick: a tiny from-scratch model, >= 2 increasing phases, small groups, no judge', async () => {
      const { config: c } = await loadConfig({ preset: 'quick' });
      assert.equal(c.tokenizer.kind, 'word-level');
      assert.equal(c.data.source, 'synthetic');
      assert.ok(c.rl.phases.length >= 2);
      assert.ok(c.rl.phases[1].maxInputTokens > c.rl.phases[0].maxInputTokens);
      assert.ok(c.rl.groupSize >= 4 && c.rl.groupSize <= 8);
      assert.ok(c.model.hiddenSize <= 256 && c.model.numHiddenLayers <= 4);
      assert.equal(c.reward.judge.enabled, false);
      assert.equal(c.retrospective.enabled, true);
      assert.equal(c.sft.enabled, true);
    });

    it('default: three phases and more steps than quick', async () => {
      const q = (await loadConfig({ preset: 'quick' })).config;
      const d = (await loadConfig({ preset: 'default' })).config;
      assert.equal(d.rl.phases.length, 3);
      const steps = (c: typeof q) => c.rl.phases.reduce((s, p) => s + p.steps, 0);
      assert.ok(steps(d) > steps(q));
    });

    it('paper: the hyper-parameters of recipe.md section 7', async () => {
      const { config: c } = await loadConfig({ preset: 'paper' });
      assert.equal(c.rl.groupSize, 8);
      assert.equal(c.rl.trainBatchSize, 128);
      assert.equal(c.rl.miniBatchSize, 32);
      assert.equal(c.rl.lr, 2e-6);
      assert.equal(c.rl.lrSchedule, 'constant');
      assert.equal(c.sampling.temperature, 0.7);
      assert.equal(c.sampling.topP, 0.95);
      assert.equal(c.sampling.maxResponseTokens, 10000);
      assert.deepEqual(c.rl.phases.map((p) => p.maxInputTokens), [20000, 60000]);
      assert.equal(c.rl.loss.kl.enabled, false);
      assert.equal(c.rl.weightDecay, 0.01);
      assert.equal(c.rl.gradClip, 1.0);
      assert.deepEqual([c.rl.overlong.enabled, c.rl.overlong.bufferLength, c.rl.overlong.factor], [true, 1000, 1.0]);
      assert.deepEqual([c.rl.dynamicSampling.enabled, c.rl.dynamicSampling.metric, c.rl.dynamicSampling.maxNumGenBatches], [true, 'accuracy', 10]);
      assert.deepEqual([c.rl.loss.clipLow, c.rl.loss.clipHigh], [0.2, 0.28]);
      assert.equal(c.reward.judge.enabled, true);
      assert.equal(c.reward.judge.model, 'Qwen/Qwen2.5-1.5B-Instruct');
      assert.equal(c.reward.judge.apiKeyEnv, 'LONGRL_JUDGE_API_KEY');
      assert.equal(c.tokenizer.kind, 'hf');
    });
  });

  describe('schema defaults', () => {
    it('fills every default, including dependent ones, from a minimal config', () => {
      const c = validateConfig({ run: { seed: 7 }, rl: { phases: [{ maxInputTokens: 300, steps: 2 }, { name: 'big', maxInputTokens: 600, steps: 1 }] } });
      assert.equal(c.run.outputDir, '.longrl/runs');
      assert.equal(c.retrospective.fraction, 0.25);
      assert.equal(c.retrospective.accuracyThreshold, 0);
      assert.deepEqual(c.rl.phases.map((p) => p.name), ['phase-1', 'big']);
      assert.equal(c.data.source === 'synthetic' && c.data.seed, 7, 'data.seed defaults to run.seed');
      assert.equal(c.rl.loss.ratioClamp, 20);
      assert.equal(c.rl.loss.aggregation, 'token-mean');
    });

    it('a file data source takes reward.defaultVerifier when it names none', () => {
      const c = validateConfig({
        data: { source: 'jsonl', trainPath: 't.jsonl', heldoutPath: 'h.jsonl' }, reward: { defaultVerifier: 'docmath' },
        sft: { enabled: false }, rl: { phases: [{ maxInputTokens: 300, steps: 1 }] },
      });
      assert.equal(c.data.source === 'jsonl' && c.data.defaultVerifier, 'docmath');
    });

    it('length buckets follow the phases unless eval.lengthBuckets is set', () => {
      const c = validateConfig({ rl: { phases: [{ maxInputTokens: 256, steps: 1 }, { maxInputTokens: 512, steps: 1 }] } });
      assert.deepEqual(evalLengthBuckets(c), [{ name: '0-256', lo: 0, hi: 256 }, { name: '256-512', lo: 256, hi: 512 }]);
      const d = validateConfig({ eval: { lengthBuckets: [100, 512] }, rl: c.rl });
      assert.deepEqual(evalLengthBuckets(d).map((b) => b.name), ['0-100', '100-512']);
    });

    it('durations convert to milliseconds', () => {
      assert.equal(durationMs('10m'), 600_000);
      assert.equal(durationMs('1.5s'), 1500);
      assert.throws(() => durationMs('10 minutes'), RangeError);
    });
  });

  describe('errors', () => {
    it('phases not increasing: the message names both paths and the earlier value', async () => {
      const f = write('phases.yaml', 'rl:\n  phases:\n    - { maxInputTokens: 2000, steps: 3 }\n    - { maxInputTokens: 2000, steps: 3 }\nmodel: { maxPositionEmbeddings: 4096 }\n');
      const err = await configError(() => loadConfig({ file: f, sets: ['sft.maxInputTokens=256'] }));
      assert.deepEqual(lines(err.issues), ['rl.phases[1].maxInputTokens: must be > rl.phases[0].maxInputTokens (2000)']);
      assert.equal(err.message, [
        `invalid run config (file ${f} + --set sft.maxInputTokens=256): 1 problem`,
        `  rl.phases[1].maxInputTokens: must be > rl.phases[0].maxInputTokens (2000) (at ${f}:4:9)`,
      ].join('\n'));
    });

    it('invalid YAML: file, line and column', async () => {
      const f = write('syntax.yaml', 'run:\n  name: x\nrl:\n  phases: [1, 2\nmodel: {}\n');
      const err = await configError(() => loadConfig({ file: f }));
      assert.equal(err.issues.length, 1);
      assert.deepEqual({ file: err.issues[0].file, line: err.issues[0].line, column: err.issues[0].column }, { file: f, line: 5, column: 1 });
      assert.equal(err.message.split('\n')[1], `  ${f}:5:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]`);
    });

    it('duplicate YAML keys are syntax errors with their position', async () => {
      const f = write('dup.yaml', 'run:\n  seed: 1\n  seed: 2\n');
      const err = await configError(() => loadConfig({ file: f }));
      assert.equal(err.message.split('\n')[1], `  ${f}:3:3: YAML syntax error: Map keys must be unique`);
    });

    it('unknown key: names the path, suggests the near key and lists the valid keys', async () => {
      const f = write('unknown.yaml', 'rl:\n  phases: [{ maxInputTokens: 256, steps: 1 }]\n  los: {}\n');
      const err = await configError(() => loadConfig({ file: f }));
      assert.deepEqual(lines(err.issues), [
        "rl.los: unknown key (did you mean 'loss'?); valid keys of rl: phases, trainBatchSize, groupSize, miniBatchSize, microBatchSize, ppoEpochs, lr, lrSchedule, weightDecay, gradClip, betas, eps, advantage, loss, dynamicSampling, overlong, continueAsNewEvery, checkpointEvery",
      ]);
      assert.deepEqual([err.issues[0].line, err.issues[0].column], [3, 3]);
    });

    it('unknown key inside a variant lists that variant\'s keys', () => {
      assert.throws(() => validateConfig({ tokenizer: { kind: 'hf', path: 't.json', maxVocabSize: 5 }, rl: { phases: [{ maxInputTokens: 9, steps: 1 }] } }), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(lines(e.issues), ['tokenizer.maxVocabSize: unknown key; valid keys of tokenizer: kind, path']);
        return true;
      });
      assert.throws(() => validateConfig({ tokenizer: { kind: 'hf', path: 't.json' }, rl: { phases: [{ maxInputTokens: 256, steps: 1 }] } }), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(lines(e.issues), ["model.vocabSize: required when tokenizer.kind is 'hf' (the word-level tokenizer sets it from its vocabulary)"]);
        return true;
      });
    });

    it('out-of-range values, wrong types, bad enums and discriminators', () => {
      try {
        validateConfig({
          rl: { phases: [{ maxInputTokens: 256, steps: 0 }], groupSize: 2.5, loss: { aggregation: 'mean', clipLow: 1.2 } },
          retrospective: { fraction: 1 }, sampling: { temperature: 'hot' }, tokenizer: { kind: 'bpe' },
        });
        assert.fail('expected a ConfigError');
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(lines(e.issues).sort(), [
          "retrospective.fraction: must be < 1 (got 1)",
          "rl.groupSize: must be an integer (got 2.5)",
          "rl.loss.aggregation: must be one of 'token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum', 'seq-mean-token-sum-norm' (got 'mean')",
          'rl.loss.clipLow: must be < 1 (got 1.2)',
          'rl.phases[0].steps: must be >= 1 (got 0)',
          "sampling.temperature: must be a number (got 'hot')",
          "tokenizer.kind: must be one of 'word-level', 'hf' (got 'bpe')",
        ]);
      }
    });

    it('missing phases, empty phases', () => {
      assert.throws(() => validateConfig({}), (e: unknown) => e instanceof ConfigError && lines(e.issues).join() === 'rl: required');
      assert.throws(() => validateConfig({ rl: { phases: [] } }), (e: unknown) => e instanceof ConfigError && lines(e.issues).join() === 'rl.phases: needs at least one phase');
    });

    it('cross-field checks: heads, batch sizes, context length, judge, eval k, reserved names', () => {
      try {
        validateConfig({
          model: { hiddenSize: 130, numAttentionHeads: 4, numKeyValueHeads: 3, maxPositionEmbeddings: 300 },
          rl: { phases: [{ name: 'final', maxInputTokens: 256, steps: 1 }], trainBatchSize: 6, miniBatchSize: 4, groupSize: 4, microBatchSize: 3 },
          reward: { judge: { enabled: true } },
          eval: { k: 5, samplesPerItem: 4 },
        });
        assert.fail('expected a ConfigError');
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual(lines(e.issues), [
          'model.hiddenSize: must be divisible by model.numAttentionHeads (4); got 130',
          'model.numKeyValueHeads: must divide model.numAttentionHeads (4); got 3',
          "rl.phases[0].name: 'final' is reserved for an evaluation stage; choose another name",
          'model.maxPositionEmbeddings: must be >= rl.phases[0].maxInputTokens + sampling.maxResponseTokens (320); got 300',
          'rl.miniBatchSize: must divide rl.trainBatchSize (6); got 4',
          'rl.microBatchSize: must divide rl.miniBatchSize x rl.groupSize (16 responses); got 3',
          'sft.maxResponseTokens: sft.maxInputTokens + sft.maxResponseTokens (320) must be <= model.maxPositionEmbeddings (300)',
          'reward.judge.baseUrl: required when reward.judge.enabled is true',
          'reward.judge.model: required when reward.judge.enabled is true',
          'eval.k: must be <= eval.samplesPerItem (4); got 5',
        ]);
      }
    });

    it('an API key where the env var NAME belongs is rejected', () => {
      assert.throws(() => validateConfig({ reward: { judge: { apiKeyEnv: 'sk-abc123' } }, rl: { phases: [{ maxInputTokens: 256, steps: 1 }] } }),
        (e: unknown) => e instanceof ConfigError
          && lines(e.issues).join() === 'reward.judge.apiKeyEnv: must be the NAME of an environment variable (letters, digits, _), never the key itself');
    });

    it('bad --set paths name the path and what is valid there', async () => {
      const err = await configError(() => loadConfig({
        preset: 'quick',
        sets: ['rl.phases[1].stepz=30', 'rl.phases[5].steps=1', 'model.hiddenSize.x=1', 'nokey', 'rl..lr=1'],
      }));
      assert.deepEqual(lines(err.issues), [
        "rl.phases[1].stepz: --set: unknown key (did you mean 'steps'?); valid keys of rl.phases[1]: name, maxInputTokens, steps",
        'rl.phases[5]: --set: index 5 is out of range: rl.phases has 2 entries; use rl.phases[2] to append',
        'model.hiddenSize.x: --set: model.hiddenSize is a single value, it has no fields',
        ": --set 'nokey': expected key=value, e.g. rl.phases[1].steps=30",
        'rl..lr: --set: not a config path; use dotted keys and [index], e.g. rl.phases[1].steps=30',
      ]);
    });

    it('unknown preset and missing file', async () => {
      const e1 = await configError(() => loadConfig({ preset: 'quik' }));
      assert.equal(e1.issues[0].message, `unknown preset 'quik' (did you mean 'quick'?); available presets: ${listPresets().join(', ')} (or pass a YAML file)`);
      const missing = path.join(dir, 'nope.yaml');
      const e2 = await configError(() => loadConfig({ file: missing }));
      assert.equal(e2.message.split('\n')[1], `  ${missing}: cannot read config file: no such file`);
    });

    it('JSON input: invalid JSON gives line and column, invalid config gives paths', () => {
      const e1 = assert.throws(() => parseConfigJson('{\n  "rl": {"phases": [],}\n}'), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.deepEqual([e.issues[0].line, e.issues[0].column], [2, 23]);
        assert.equal(e.message, 'invalid run config (JSON input): 1 problem\n  invalid JSON: Expected double-quoted property name (line 2, column 23)');
        return true;
      });
      void e1;
      assert.throws(() => parseConfigJson('{"rl": '), (e: unknown) => e instanceof ConfigError && e.issues[0].line === 1 && e.issues[0].column === 8);
      assert.throws(() => parseConfigJson('[1]'), (e: unknown) => e instanceof ConfigError
        && e.issues[0].message === 'the config must be a JSON object of sections (run, model, rl, ...), got a list');
      assert.throws(() => parseConfigJson('{"rl": {"phases": [{"maxInputTokens": 256, "steps": 1}]}, "modle": {}}'), (e: unknown) => e instanceof ConfigError
        && lines(e.issues)[0].startsWith("modle: unknown key (did you mean 'model'?); valid keys at the top level: run, model, tokenizer,"));
    });

    it('a file the config names must exist', async () => {
      const { config } = parseConfigJson(JSON.stringify({
        data: { source: 'jsonl', trainPath: 'train.jsonl', heldoutPath: 'missing.jsonl' }, sft: { enabled: false },
        rl: { phases: [{ maxInputTokens: 256, steps: 1 }] },
      }));
      write('train.jsonl', '{}\n');
      const err = await configError(() => assertConfigFiles(config, dir));
      assert.deepEqual(lines(err.issues), [`data.heldoutPath: file not found: ${path.join(dir, 'missing.jsonl')}`]);
    });
  });

  describe('overrides and precedence', () => {
    it('defaults < preset < file < --set (in order); null resets to the default', async () => {
      const quick = (await loadConfig({ preset: 'quick' })).config;
      const f = write('over.yaml', 'rl:\n  groupSize: 4\n  lr: 3.0e-5\nsampling: { topK: 5 }\nretrospective: { fraction: null }\n');
      const { config, source } = await loadConfig({ preset: 'quick', file: f, sets: ['rl.lr=1e-5', 'rl.phases[1].steps=30', 'rl.lr=2e-5'] });
      assert.equal(config.rl.groupSize, 4, 'file over preset');
      assert.equal(config.rl.lr, 2e-5, 'last --set wins over earlier --set and the file');
      assert.equal(config.rl.phases[1].steps, 30);
      assert.equal(config.rl.phases[0].steps, quick.rl.phases[0].steps, 'other list entries kept');
      assert.equal(config.sampling.topK, 5);
      assert.equal(config.sampling.temperature, quick.sampling.temperature, 'objects merge key by key');
      assert.equal(config.retrospective.fraction, 0.25, 'null resets to the schema default');
      assert.equal(config.model.hiddenSize, quick.model.hiddenSize);
      assert.equal(source, `preset 'quick' + file ${f} + --set rl.lr=1e-5 --set rl.phases[1].steps=30 --set rl.lr=2e-5`);
    });

    it('--set values are YAML: numbers, booleans, lists, mappings; string fields keep the text', async () => {
      const { config } = await loadConfig({
        preset: 'quick',
        sets: ['run.name=007', 'rl.loss.kl.enabled=true', 'rl.betas=[0.9, 0.95]', 'eval.lengthBuckets=[128, 512]', 'rl.phases[2]={maxInputTokens: 600, steps: 2}', 'model.maxPositionEmbeddings=700'],
      });
      assert.equal(config.run.name, '007');
      assert.equal(config.rl.loss.kl.enabled, true);
      assert.deepEqual(config.rl.betas, [0.9, 0.95]);
      assert.deepEqual(config.eval.lengthBuckets, [128, 512]);
      assert.deepEqual(config.rl.phases[2], { name: 'phase-3', maxInputTokens: 600, steps: 2 });
    });

    it('a --set that breaks a cross-field rule is reported without a file position', async () => {
      const err = await configError(() => loadConfig({ preset: 'quick', sets: ['rl.phases[1].maxInputTokens=100'] }));
      const quick = (await loadConfig({ preset: 'quick' })).config;
      assert.deepEqual(err.issues, [{ path: 'rl.phases[1].maxInputTokens', message: `must be > rl.phases[0].maxInputTokens (${quick.rl.phases[0].maxInputTokens})` }]);
    });

    it('the resolved YAML loads back to the same config and hash; the hash ignores key order', async () => {
      const a = await loadConfig({ preset: 'quick', sets: ['rl.phases[1].steps=3'] });
      const f = write('resolved.yaml', a.resolvedYaml);
      const b = await loadConfig({ file: f });
      assert.deepEqual(b.config, a.config);
      assert.equal(b.hash, a.hash);
      const reordered = Object.fromEntries(Object.entries(a.config).reverse());
      assert.equal(parseConfigJson(JSON.stringify(reordered)).hash, a.hash);
      const c = await loadConfig({ preset: 'quick', sets: ['rl.phases[1].steps=4'] });
      assert.notEqual(c.hash, a.hash);
    });

    it('configArg tells preset names from file paths; parsePath reads dotted paths', () => {
      assert.deepEqual(configArg('quick'), { preset: 'quick' });
      assert.deepEqual(configArg('quick.yaml'), { file: 'quick.yaml' });
      assert.deepEqual(configArg('./runs/x'), { file: './runs/x' });
      assert.deepEqual(parsePath('rl.phases[1].steps'), ['rl', 'phases', 1, 'steps']);
      assert.equal(parsePath('[0].a'), undefined);
      assert.equal(parsePath('a.'), undefined);
    });
  });
});
