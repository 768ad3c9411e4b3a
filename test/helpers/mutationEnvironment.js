// Jest's test environment for Stryker runs (jest.mutation.config.js): once a test has failed under
// a mutant, the remaining tests of that mutant's run are skipped, since one failure kills it. (Jest
// cannot bail programmatically, so Stryker would otherwise run every covering test of every mutant.)
// Stryker names the active mutant in this process's environment; without one this does nothing.
const { TestEnvironment } = require('jest-environment-node');

/** The mutant a test has already failed under, in this worker process (shared by every test file). */
let killed;

class MutationEnvironment extends TestEnvironment {
  async handleTestEvent(event, state) {
    await super.handleTestEvent?.(event, state);
    const mutant = process.env.__STRYKER_ACTIVE_MUTANT__;
    if (mutant === undefined) return;
    if (event.name === 'test_done' && event.test.errors.length > 0) killed = mutant;
    else if (event.name === 'test_start' && killed === mutant) event.test.mode = 'skip';
  }
}

module.exports = MutationEnvironment;
