'use strict';
// Installs this folder's own dependencies (NestJS 12) when they are missing or older than its
// package-lock.json: the root's `pretest` runs it, so `npm install && npm test` on a fresh clone
// needs nothing else. It never touches the repository root's node_modules.
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const here = __dirname;
const stamp = path.join(here, 'node_modules', '.installed-from');
const wanted = createHash('sha256')
  .update(fs.readFileSync(path.join(here, 'package.json')))
  .update(fs.readFileSync(path.join(here, 'package-lock.json')))
  .digest('hex');

if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === wanted) process.exit(0);

console.log(
  `installing the NestJS 12 test project's dependencies (${path.relative(process.cwd(), here) || '.'})`,
);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
execFileSync(npm, ['ci', '--no-audit', '--no-fund'], {
  cwd: here,
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
fs.writeFileSync(stamp, wanted);
