import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Loads a package if it is installed, else returns undefined. */
export type OptionalRequire = (name: string) => unknown;

/**
 * Loads packages from this package's place in node_modules, then from the application's working
 * directory (so strict layouts such as pnpm's still find the application's own dependencies).
 */
export interface OptionalLoader {
  /** The package's exports, or undefined when it is not installed. Other load errors are thrown. */
  readonly load: OptionalRequire;
  /** The file `name` resolves to, or undefined when it is not installed. */
  readonly resolve: (name: string) => string | undefined;
}

export function createOptionalLoader(cwd: string = process.cwd()): OptionalLoader {
  const requires = [require, createRequire(join(cwd, 'noop.js'))];
  return {
    load: (name) => firstFound(requires, name, (r) => r(name)),
    resolve: (name) => firstFound(requires, name, (r) => r.resolve(name)),
  };
}

/**
 * An OptionalRequire that resolves next to the module file `anchor` first (e.g. the NodeSDK's own
 * dependencies, which may be nested under it), then through `fallback`.
 */
export function optionalRequireNextTo(anchor: string, fallback: OptionalRequire): OptionalRequire {
  const near = createRequire(anchor);
  return (name) => firstFound([near], name, (r) => r(name)) ?? fallback(name);
}

function firstFound<T>(requires: readonly NodeJS.Require[], name: string, use: (r: NodeJS.Require) => T): T | undefined {
  for (const r of requires) {
    try {
      return use(r);
    } catch (error) {
      if (!isNotFound(error, name)) throw error;
    }
  }
  return undefined;
}

/** True for "this package is not installed", not for a missing module deeper inside it. */
function isNotFound(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = String((error as { message?: unknown } | null)?.message ?? '');
  return code === 'MODULE_NOT_FOUND' && message.includes(`'${name}'`);
}
