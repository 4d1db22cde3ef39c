/**
 * Bad-input matrix, config rows (issue 7.2): `longrl train --config FILE` must refuse a bad
 * config before it contacts Temporal, with exit code 2 and the exact lines below.
 *
 * Every command points `--address` at a closed local port: validation must fail first, so
 * no run is ever started; if validation regressed, the command would fail with the
 * "cannot reach a Temporal server" line instead and the test would fail on the message.
 */
import { cli, assertUserError, closedPort, writeFile } from './support';
import { tempDir } from '../../support/env';

const RL_KEYS = 'phases, trainBatchSize, groupSize, miniBatchSize, microBatchSize, ppoEpochs, lr, lrSchedule, weightDecay, gradClip, betas, eps, advantage, loss, dynamicSampling, overlong, continueAsNewEvery, checkpointEvery';

describe('bad input: run configs (longrl train)', function () {
  this.timeout(60_000);
  const dir = tempDir('bad-config');
  let address: string;

  before(async () => {
    address = `127.0.0.1:${await closedPort()}`;
  });

  const train = (file: string, ...extra: string[]) => cli(['train', '--config', file, ...extra, '--address', address]);

  it('invalid YAML: file:line:column of the syntax error', async () => {
    // A tab used for indentation (YAML forbids it) on line 4.
    const file = writeFile(dir, 'tab.yaml', 'run:\n  name: tabbed\nrl:\n\tgroupSize: 4\n');
    assertUserError(await train(file), [
      `longrl: invalid run config (file ${file}): 1 problem`,
      `  ${file}:4:1: YAML syntax error: Tabs are not allowed as indentation`,
    ]);
  });

  it('unknown key: names the key, suggests the close one, lists the valid keys, points at the line', async () => {
    const file = writeFile(dir, 'unknown.yaml', [
      'rl:',
      '  phases:',
      '    - { name: short, maxInputTokens: 256, steps: 2 }',
      '  groupSzie: 4',
      '',
    ].join('\n'));
    assertUserError(await train(file), [
      `longrl: invalid run config (file ${file}): 1 problem`,
      `  rl.groupSzie: unknown key (did you mean 'groupSize'?); valid keys of rl: ${RL_KEYS} (at ${file}:4:3)`,
    ]);
  });

  it('out-of-range values: every field with its bound, the value given and its position', async () => {
    const file = writeFile(dir, 'range.yaml', [
      'rl:',
      '  phases:',
      '    - { name: short, maxInputTokens: 256, steps: 2 }',
      '  groupSize: 0',
      'sampling:',
      '  topP: 1.5',
      'retrospective:',
      '  fraction: -0.1',
      '',
    ].join('\n'));
    assertUserError(await train(file), [
      `longrl: invalid run config (file ${file}): 3 problems`,
      `  rl.groupSize: must be >= 1 (got 0) (at ${file}:4:3)`,
      `  sampling.topP: must be <= 1 (got 1.5) (at ${file}:6:3)`,
      `  retrospective.fraction: must be >= 0 (got -0.1) (at ${file}:8:3)`,
    ]);
  });

  it('curriculum phases not increasing: the later phase is named with the earlier budget (file and --set)', async () => {
    const file = writeFile(dir, 'phases.yaml', [
      'rl:',
      '  phases:',
      '    - { name: short, maxInputTokens: 512, steps: 2 }',
      '    - { name: long, maxInputTokens: 256, steps: 2 }',
      'model:',
      '  maxPositionEmbeddings: 1024',
      '',
    ].join('\n'));
    assertUserError(await train(file), [
      `longrl: invalid run config (file ${file}): 1 problem`,
      `  rl.phases[1].maxInputTokens: must be > rl.phases[0].maxInputTokens (512) (at ${file}:4:21)`,
    ]);
    // The same mistake made with --set on a preset: no file position, the --set is the source.
    assertUserError(await cli(['train', '--config', 'quick', '--set', 'rl.phases[1].maxInputTokens=200', '--address', address]), [
      "longrl: invalid run config (preset 'quick' + --set rl.phases[1].maxInputTokens=200): 1 problem",
      '  rl.phases[1].maxInputTokens: must be > rl.phases[0].maxInputTokens (256)',
    ]);
  });
});
