const os = require('node:os');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  testTimeout: 60000,
  // Two workers at least: jest's default (cores - 1) is one worker on a 2-core machine, and most suites
  // wait on moto, bats or a spawned CLI as much as they compute. The longest suites start first.
  maxWorkers: Math.max(2, os.availableParallelism() - 1),
  testSequencer: '<rootDir>/test/helpers/slowFirstSequencer.js',
  // Decides once whether moto can run the emulator tests (test/emulator): skipped with one line outside CI.
  globalSetup: '<rootDir>/test/emulator/globalSetup.ts',
};
