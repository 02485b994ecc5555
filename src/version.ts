// Kept in step with package.json by test/version.test.ts: reading package.json at run time
// would depend on where the compiled file sits (dist/ or build/src/).
export const PACKAGE_NAME = 'otel-span-profiler';
export const PACKAGE_VERSION = '0.1.0';
