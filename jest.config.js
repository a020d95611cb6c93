// Jest runs the TypeScript sources as ESM through @swc/jest (ts-jest does not support
// TypeScript 7); types are checked separately with `tsc --noEmit` (npm run typecheck).
// With DATABASE_URL and REDIS_URL set (the second pass of .ci/run), the tests that touch no
// storage of their own run once, in the embedded pass: the unit tests, and the browser tests
// (every flow they drive is also tested over HTTP in both passes). IAM_TEST_ALL=1 runs them too.
const servicesPass = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL) && process.env.IAM_TEST_ALL !== '1';

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
    }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', ...(servicesPass ? ['<rootDir>/test/unit/', '<rootDir>/test/e2e/'] : [])],
  setupFiles: ['<rootDir>/test/support/expected-warnings.ts'],
  testTimeout: 30000,
};
