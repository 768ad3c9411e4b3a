// Jest as Stryker runs it (npm run test:mutation): the suites that test the safety core directly.
// `roots` names src and test: Stryker adds only the mutated file's folder to roots, so without `test`
// the related tests would silently not run. Stryker's jest runner cannot bail, so every mutant loads
// every related suite and runs every test that covers it: the broad cluster workflow suites (seconds
// each, covering the whole engine) and the crash sweeps would make a run take hours; test/cli (the built
// dist/, never mutated, or whole commands in process: seconds per mutant), test/emulator (moto) and
// test/userdata (shells) are left out too.
const path = require('node:path');
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: [
    '<rootDir>/test/config/**/*.test.ts',
    '<rootDir>/test/orchestration/engine/**/*.test.ts',
    '<rootDir>/test/resources/**/*.test.ts',
    // Input validation through the workflows.
    '<rootDir>/test/orchestration/workflows/*BadInput*.test.ts',
    '<rootDir>/test/orchestration/workflows/*Input.test.ts',
    // Rollback of every resource kind, asserted on the account afterwards.
    '<rootDir>/test/orchestration/workflows/*Rollback*.test.ts',
    // The recycle planner, and the recycles and upgrades that execute its plans and undo them.
    '<rootDir>/test/orchestration/steps/recyclePlan*.test.ts',
    '<rootDir>/test/orchestration/workflows/recycle.test.ts',
    '<rootDir>/test/orchestration/workflows/upgrade.test.ts',
  ],
  globalSetup: undefined,
  // These suites run on the virtual clock (no test needs a real second); a mutant that makes a wait
  // spin fails its test here rather than hitting Stryker's timeout, which restarts the worker.
  testTimeout: 10_000,
  // Per mutant: load only the files with a covering test, fastest first, and stop at the first failure.
  // (Absolute paths: Stryker loads the environment itself, without expanding <rootDir>.)
  testSequencer: path.join(__dirname, 'test/helpers/mutationSequencer.js'),
  testEnvironment: path.join(__dirname, 'test/helpers/mutationEnvironment.js'),
};
