/**
 * Finding 1 of the chaos suite (notes/chaos-findings.md): `maxAttempts: 0` is documented as
 * "unlimited attempts" (config/schema.ts, TimeoutPresetSchema) but reaches Temporal's retry
 * policy as 0, which the SDK rejects, so every activity of such a run fails at schedule time.
 * Chaos runs want unlimited retries (a process may die several times under one activity).
 */
import { strict as assert } from 'node:assert';
import { compileRetryPolicy } from '@temporalio/common';
import { TimeoutPresetSchema } from '../../config/schema';
import { optionsOf } from '../../workflows/proxies';

describe('activity retry policy from a timeout preset', () => {
  it('maxAttempts 0 ("unlimited attempts") compiles to an unlimited Temporal retry policy', () => {
    const preset = TimeoutPresetSchema.parse({ startToClose: '5m', heartbeat: '6s', maxAttempts: 0 });
    const retry = optionsOf(preset, 'longrl-compute').retry;
    assert.ok(retry, 'a retry policy is set');
    const compiled = compileRetryPolicy(retry);
    assert.ok(!compiled.maximumAttempts, `maximumAttempts must be unset or 0 (unlimited); got ${compiled.maximumAttempts}`);
  });

  it('maxAttempts N stays N', () => {
    const preset = TimeoutPresetSchema.parse({ startToClose: '5m', maxAttempts: 3 });
    assert.equal(compileRetryPolicy(optionsOf(preset, 'longrl-compute').retry!).maximumAttempts, 3);
  });
});
