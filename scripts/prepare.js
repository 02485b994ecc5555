#!/usr/bin/env node
// npm's `prepare` step: runs on `npm install` from a clone or a git URL, on `npm ci` in the repo,
// and on `npm pack`. It builds dist/ (what the package's entry points load) unless dist/ is already
// newer than every file the build reads, so a repeated `npm ci` costs a directory walk, not a build.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
// The build's last step writes this file: present and newer than every input means up to date.
const stamp = path.join(root, 'dist', 'register.mjs');
const inputs = ['src', 'proto', 'tsconfig.json', 'package.json', 'scripts/generate-proto-schema.js'];

function newestMtimeMs(file) {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (stat === undefined) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of fs.readdirSync(file)) newest = Math.max(newest, newestMtimeMs(path.join(file, name)));
  return newest;
}

const built = fs.statSync(stamp, { throwIfNoEntry: false });
const newestInput = Math.max(...inputs.map((input) => newestMtimeMs(path.join(root, input))));
if (built !== undefined && built.mtimeMs >= newestInput) {
  console.log('prepare: dist/ is up to date');
} else {
  console.log('prepare: building dist/ (npm run build)');
  // npm_execpath is the npm that runs this script; `npm` on PATH otherwise.
  const npm = process.env.npm_execpath;
  if (npm !== undefined && npm.endsWith('.js')) execFileSync(process.execPath, [npm, 'run', 'build'], { cwd: root, stdio: 'inherit' });
  else execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
}
