/*
 * dependency-cruiser's rules for src/ (run by `npm run lint` and test/architecture/import-circles.test.ts).
 * One rule: no import circles, type-only imports included, so each folder's place in the data's way
 * (docs/architecture.md) stays a line, not a loop.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Two modules that import each other (directly or through others) belong in one file, or need a third that both import.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    // Type-only imports count: `import type` circles still tie two files' designs together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.d\\.ts$' },
  },
};
