// Mutation testing of k3sctl's safety core (npm run test:mutation): input validation (src/config),
// the engine (journal, rollback, run, waits), the recycle planner, and the undo of every resource kind.
// Incremental: a rerun only tests mutants whose code or covering tests changed since the last run
// (reports/stryker-incremental.json, a local cache; delete it or pass --force for a full run).
// Mutants that no test can kill are listed with a reason in stryker-equivalent.md.
import * as fs from 'node:fs';

/**
 * The `registerUndo(...)` blocks of a resource module, as Stryker line ranges (`file:from-to`), found
 * at load time so the ranges follow the code as it moves.
 */
function undoBlocks(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const ranges = [];
  let start;
  lines.forEach((line, i) => {
    if (start === undefined && line.startsWith('registerUndo(')) start = i + 1;
    else if (start !== undefined && line.startsWith('});')) {
      ranges.push(`${file}:${start}-${i + 1}`);
      start = undefined;
    }
  });
  return ranges;
}

const wholeUndoModules = ['src/resources/undo.ts', 'src/resources/groupReplacement.ts', 'src/resources/replacementRecord.ts'];
const resourceModules = fs
  .readdirSync('src/resources')
  .filter((f) => f.endsWith('.ts'))
  .map((f) => `src/resources/${f}`)
  .filter((f) => !wholeUndoModules.includes(f));

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: { projectType: 'custom', configFile: 'jest.mutation.config.js', enableFindRelatedTests: true },
  coverageAnalysis: 'perTest',
  // A static mutant (run only while modules load or in a beforeAll, e.g. a cluster built once per file)
  // would rerun every related test (about two minutes each); those covered by a test as well still run
  // against the tests that cover them. The report lists the ignored ones.
  ignoreStatic: true,
  mutate: [
    'src/config/**/*.ts',
    'src/orchestration/engine/**/*.ts',
    'src/orchestration/steps/recyclePlan.ts',
    ...wholeUndoModules,
    ...resourceModules.flatMap(undoBlocks),
  ],
  ignorePatterns: ['/dist', '/coverage', '/.k3sctl-test', '/tmp', '/bench', '/.stryker-tmp*'],
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 80, break: null },
  // Two cores on the shared build machine; raise with --concurrency on a bigger one.
  concurrency: 2,
  // Above jest's testTimeout in jest.mutation.config.js, so a spinning wait fails its test first.
  timeoutMS: 20000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
