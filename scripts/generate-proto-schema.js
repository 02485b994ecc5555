#!/usr/bin/env node
'use strict';
// Compiles every .proto file under proto/ into one protobufjs JSON descriptor, written next to the
// compiled encoder (<outDir>/otlp/otlp-schema.json), so the package never reads proto/ at run
// time and bundlers inline the schema. Run by `npm run build` (outDir dist) and `npm run build:test`
// (outDir build/src). Usage: node scripts/generate-proto-schema.js <outDir>
const fs = require('node:fs');
const path = require('node:path');
const { pbjs } = require('protobufjs-cli');

const repo = path.join(__dirname, '..');
const protoDir = path.join(repo, 'proto');
const outDir = process.argv[2];
if (!outDir) {
  console.error('usage: node scripts/generate-proto-schema.js <outDir>');
  process.exit(2);
}

function protoFiles(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return protoFiles(full);
      return entry.name.endsWith('.proto') ? [full] : [];
    })
    .sort();
}

const files = protoFiles(protoDir);
if (files.length === 0) {
  console.error(`generate-proto-schema: no .proto files under ${protoDir}`);
  process.exit(1);
}
const target = path.resolve(repo, outDir, 'otlp', 'otlp-schema.json');
fs.mkdirSync(path.dirname(target), { recursive: true });
// --keep-case off: field names become lowerCamelCase, as the request model and OTLP JSON use them.
pbjs.main(['--target', 'json', '--path', protoDir, '--out', target, ...files], (error) => {
  if (error) {
    console.error(`generate-proto-schema: ${error.message}`);
    process.exit(1);
  }
});
