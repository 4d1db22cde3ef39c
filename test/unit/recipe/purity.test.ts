/**
 * recipe/rng.ts, recipe/algorithms/**, recipe/curriculum/** (and what they import) are
 * imported by Temporal workflow code: they must be deterministic, so they may not import
 * Node built-ins or I/O packages, nor use Math.random or Date.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { builtinModules } from 'node:module';

const root = path.resolve(__dirname, '..', '..', '..', '..'); // dist/test/unit/recipe -> repo root

const code = (f: string): string => fs.readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');

function sourcesUnder(rel: string): string[] {
  const abs = path.join(root, rel);
  if (fs.statSync(abs).isFile()) return [abs];
  return fs.readdirSync(abs).filter((f) => f.endsWith('.ts')).map((f) => path.join(abs, f));
}

describe('recipe: workflow-safe modules stay pure', () => {
  const files = ['recipe/rng.ts', 'recipe/errors.ts', 'recipe/pure.ts', 'recipe/data/phases.ts', 'recipe/algorithms', 'recipe/curriculum'].flatMap(sourcesUnder);
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

  it('import no Node built-ins or I/O packages, only relative pure modules', () => {
    assert.ok(files.length >= 9);
    for (const f of files) {
      for (const m of code(f).matchAll(/(?:from\s+|require\(|import\()\s*['"]([^'"]+)['"]/g)) {
        const spec = m[1];
        assert.ok(!builtins.has(spec), `${f} imports Node built-in ${spec}`);
        assert.ok(spec.startsWith('.'), `${f} imports package ${spec}`);
        const target = path.resolve(path.dirname(f), spec) + '.ts';
        assert.ok(files.includes(target) || /recipe\/(rng|errors)\.ts$/.test(target), `${f} imports ${spec}, which is not in the pure set`);
      }
    }
  });

  it('use no Math.random, Date, timers or process', () => {
    for (const f of files) {
      assert.doesNotMatch(code(f), /Math\.random|\bDate\b|setTimeout|setInterval|\bprocess\./, f);
    }
  });
});
