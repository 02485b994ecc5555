import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// Issue #23: `npm test`'s pretest step (scripts/test-prerequisites.sh) needs nothing but Go, says so
// clearly when it is missing, and never installs anything or asks, even as root under CI=true.

// build/test/setup/ -> the repository root; the script stays in the source tree.
const script = path.join(__dirname, '..', '..', '..', 'scripts', 'test-prerequisites.sh');
const BASIC_TOOLS = [
  'bash',
  'env',
  'dirname',
  'mktemp',
  'date',
  'sleep',
  'grep',
  'tail',
  'cut',
  'find',
  'du',
  'wc',
  'rm',
  'cat',
  'sha256sum',
];
const INSTALLERS = ['apt-get', 'apt', 'sudo', 'brew', 'protoc'];

describe('npm test prerequisites (scripts/test-prerequisites.sh)', function () {
  let dir: string;
  let calls: string;

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prerequisites-'));
    calls = path.join(dir, 'calls.log');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    // The basic tools the script uses, and nothing else: no go, no chromium.
    for (const tool of BASIC_TOOLS) {
      const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (found !== '') fs.symlinkSync(found, path.join(bin, tool));
    }
    // Installers and protoc record any call and fail.
    for (const tool of INSTALLERS) {
      fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> '${calls}'\nexit 1\n`, { mode: 0o755 });
    }
  });

  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('should stop with a clear message and install nothing when Go is missing, even with CI=true and a yes on stdin', function () {
    const result = spawnSync(path.join(dir, 'bin', 'bash'), [script], {
      env: { PATH: path.join(dir, 'bin'), CI: 'true', INSTALL_TEST_PREREQUISITES: 'yes', HOME: dir },
      input: 'y\ny\n',
      encoding: 'utf8',
    });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /Go is missing/);
    assert.match(result.stderr, /Go 1\.26 or newer/);
    assert.match(result.stderr, /npm run test:unit/);
    assert.doesNotMatch(result.stderr, /protoc/);
    assert.equal(fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8') : '', '', 'an installer or protoc was called');
  });
});
