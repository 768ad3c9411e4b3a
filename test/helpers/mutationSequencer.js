// Jest's test sequencer for Stryker runs (jest.mutation.config.js). Stryker runs each mutant with
// `--findRelatedTests` and a name pattern of the tests that cover it, and jest loads every related
// file to find those names: seconds per mutant spent importing suites that run nothing. The initial
// run (no name pattern) records which file holds each test name; a mutant's run then loads only the
// files holding a test its pattern names (a file this map does not know is always kept), the last
// killers and the fastest first, so that mutationEnvironment.js skips the rest once one has failed.
const fs = require('node:fs');
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

function mapFile(config) {
  return path.join(config.cacheDirectory, `test-names-${config.id}.json`);
}

class MutationSequencer extends Sequencer {
  constructor(options) {
    super(options);
    this.namePattern = options.globalConfig.testNamePattern;
  }

  sort(tests) {
    if (!this.namePattern) return super.sort(tests);
    const pattern = new RegExp(this.namePattern, 'i');
    const known = new Map();
    const keep = tests.filter((test) => {
      const file = mapFile(test.context.config);
      if (!known.has(file)) known.set(file, readMap(file));
      const names = known.get(file)?.[test.path];
      return names === undefined || names.some((name) => pattern.test(name));
    });
    // Files that failed last time first (they just killed a mutant), then the fastest.
    const last = (test) => this._getCache(test)[test.path] ?? [1, 0];
    return keep.sort((a, b) => last(a)[0] - last(b)[0] || last(a)[1] - last(b)[1]);
  }

  cacheResults(tests, results) {
    super.cacheResults(tests, results);
    if (this.namePattern) return;
    const byFile = new Map();
    for (const test of tests) {
      const file = mapFile(test.context.config);
      if (!byFile.has(file)) byFile.set(file, readMap(file) ?? {});
    }
    for (const suite of results.testResults) {
      const test = tests.find((t) => t.path === suite.testFilePath);
      if (!test || suite.testExecError) continue;
      byFile.get(mapFile(test.context.config))[suite.testFilePath] = suite.testResults.map((r) => r.fullName);
    }
    for (const [file, names] of byFile) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}`;
      fs.writeFileSync(temporary, JSON.stringify(names));
      fs.renameSync(temporary, file);
    }
  }
}

function readMap(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

module.exports = MutationSequencer;
