#!/usr/bin/env node
// Runs longrl's compiled mocha tests by tier and ends with the line `N passed, N failed`.
//   node scripts/run-tests.js                 all tiers: unit, integration, chaos
//   node scripts/run-tests.js --tier unit     one tier (repeatable)
//   node scripts/run-tests.js --grep WORDS    only matching tests
// Integration and chaos tiers share one Temporal dev server started by the global fixture
// (dist/test/support/global-fixture.js) through longrl's Temporal CLI acquisition module.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Mocha = require('mocha');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist', 'test');
const args = process.argv.slice(2);
const tiers = [];
let grep;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--tier') tiers.push(args[++i]);
  else if (args[i] === '--grep') grep = args[++i];
  else if (args[i].startsWith('--tier=')) tiers.push(args[i].slice(7));
  else { console.error(`run-tests: unknown argument ${args[i]}`); process.exit(2); }
}
const selected = tiers.length ? tiers : ['unit', 'integration', 'chaos'];
const chaosFull = process.env.LONGRL_CHAOS_FULL === '1';

function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.name.endsWith('.test.js') ? [p] : [];
  }).sort();
}

if (!fs.existsSync(dist)) {
  console.error('run-tests: dist/test not found; run `npm run build` first');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const mocha = new Mocha({ timeout: 120000, reporter: 'spec', grep, color: process.stdout.isTTY });
for (const tier of selected) for (const f of walk(path.join(dist, tier))) mocha.addFile(f);
if (selected.some((t) => t !== 'unit')) {
  const fixture = require(path.join(dist, 'support', 'global-fixture.js'));
  if (fixture.mochaGlobalSetup) mocha.globalSetup(fixture.mochaGlobalSetup);
  if (fixture.mochaGlobalTeardown) mocha.globalTeardown(fixture.mochaGlobalTeardown);
  mocha.enableGlobalSetup(true);
  mocha.enableGlobalTeardown(true);
}
if (chaosFull) process.env.LONGRL_CHAOS_FULL = '1';

let passed = 0, failed = 0, pending = 0;
const runner = mocha.run((failures) => {
  const total = passed + failed;
  const line = `${passed} passed, ${failed} failed` + (pending ? `, ${pending} skipped` : '');
  console.log(line);
  if (total === 0) { console.error('run-tests: no test was executed'); process.exitCode = 1; return; }
  process.exitCode = failures || failed ? 1 : 0;
});
runner.on('pass', () => passed++);
runner.on('fail', (test) => { if (test.type === 'hook' || test.type === 'test') failed++; });
runner.on('pending', () => pending++);
