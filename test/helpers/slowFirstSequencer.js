// Jest's test sequencer for `npm test` (jest.config.js): the suites that take longest start first, so
// that on two workers none of them starts last and runs alone while the other worker idles. Jest's own
// order does this from the durations it cached in an earlier run; a fresh machine (CI) has none and
// orders by file size. SLOWEST lists the long suites, slowest first (wall seconds on 2 cores, measured
// with `npm test -- --json`); they go first, in that order, and every other suite follows in jest's order.
const Sequencer = require('@jest/test-sequencer').default;

const SLOWEST = [
  'test/userdata/bats.test.ts', // bats, moto.bats: the real AWS CLI against moto
  'test/emulator/lifecycle.test.ts',
  'test/orchestration/workflows/replacementCrash.test.ts',
  'test/emulator/conformance.test.ts',
  'test/emulator/rollback.test.ts',
  'test/cli/contractAll.test.ts',
  'test/emulator/credentials.test.ts',
  'test/cli/clusterKill.test.ts',
  'test/emulator/replacement.test.ts',
  'test/orchestration/workflows/clusterReliabilitySweep.test.ts',
  'test/orchestration/workflows/clusterSeedKnobs.test.ts',
  'test/cli/replacementKill.test.ts',
  'test/cli/helpTexts.test.ts',
];

class SlowFirstSequencer extends Sequencer {
  sort(tests) {
    const rank = (test) => {
      const i = SLOWEST.findIndex((suffix) => test.path.endsWith(suffix));
      return i === -1 ? SLOWEST.length : i;
    };
    // Array.prototype.sort is stable: the rest keep jest's order.
    return [...super.sort(tests)].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = SlowFirstSequencer;
