// Jest runs the TypeScript sources as ESM through @swc/jest (ts-jest does not support
// TypeScript 7); types are checked separately with `tsc --noEmit` (npm run typecheck).
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
  setupFiles: ['<rootDir>/test/support/expected-warnings.ts'],
  testTimeout: 30000,
};
