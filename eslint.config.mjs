// ESLint for otel-span-profiler: `npm run lint`. Formatting is Prettier's alone (.prettierrc,
// `npm run format`); eslint-config-prettier, last, turns off every rule that would disagree with it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'build/', '.cache/', 'out/', '**/node_modules/', 'bench/results/']),
  {
    linterOptions: {
      // A disable comment that no longer silences anything is itself an error.
      reportUnusedDisableDirectives: 'error',
    },
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    // Node code, CommonJS where the file says so (.js under bench/, examples/, scripts/, test/).
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `const { performance } = require('node:perf_hooks')` names a global on purpose: the
      // module's copy, the same on every Node version we run.
      'no-redeclare': ['error', { builtinGlobals: false }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    ignores: ['web/**'],
    languageOptions: { sourceType: 'commonjs' },
    rules: {
      // CommonJS files load modules with require(): that is their import.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // Mocha suites written in JavaScript (the OpenTelemetry JS 3.x smoke test).
    files: ['test/**/*.js'],
    languageOptions: { globals: { ...globals.mocha } },
  },
  {
    // The viewer's page runs in the browser, as an ES module, with d3 and d3-flame-graph loaded
    // by index.html's script tags.
    files: ['web/**/*.js'],
    languageOptions: { globals: { ...globals.browser, d3: 'readonly', flamegraph: 'readonly' }, sourceType: 'module' },
  },
  {
    // Type-aware rules on our TypeScript, only those that find lost promises: a promise nobody
    // awaits or handles is how an export failure goes unreported or a rejection crashes a user's
    // process. tsconfig.test.json covers src/ and test/, so one program serves both.
    files: ['src/**/*.ts', 'test/**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // require() in our TypeScript is a lazy load, each with its reason at the call: a module
      // loaded at first use, so applications that never need it never pay for it, and so
      // instrumentation registered after us can still patch http. Only these.
      '@typescript-eslint/no-require-imports': [
        'error',
        { allow: ['^https?$', '^@grpc/grpc-js$', '^protobufjs/light$', '^\\./otlp-schema\\.json$', '^node:inspector$'] },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests load the built package afresh (require.cache), and load optional tools (puppeteer,
      // esbuild, webpack) only in the suites that use them.
      '@typescript-eslint/no-require-imports': 'off',
      // Tests read decoded protobuf and OTLP JSON loosely; a wrong shape fails the assertion.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // `Function` is the type of Error.captureStackTrace's own parameter, which capture() passes on.
    files: ['src/sampler/probe/stack-capture.ts'],
    rules: { '@typescript-eslint/no-unsafe-function-type': 'off' },
  },
  {
    rules: {
      // `_name` marks a parameter or binding kept for its position or shape, not for use;
      // `const { a, ...rest } = o` leaves `a` out of `rest` on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // A `let` that a closure reads before its one assignment (a timer cleared by a callback
      // that may run first) cannot be a const: the read would throw.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  prettier,
);
