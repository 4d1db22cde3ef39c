#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('longrl: not built yet; run `npm run build` (or `npm install && npm run build`) in ' + path.dirname(__dirname) + '\n');
  process.exit(2);
}
require(entry).main(process.argv.slice(2));
