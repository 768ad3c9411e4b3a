// What scripts/bundle-core.js and scripts/bundle-commands.js share: the esbuild options of a Node.js
// CommonJS bundle that bin/run.js compiles with vm.Script, and the hook its dynamic import()s go through.

/**
 * bin/run.js compiles a bundle with vm.Script (to use a V8 code cache), where a dynamic import() fails
 * on Node 20 unless an experimental loader option is given, which code-cached functions lose anyway. So a
 * bundle's `await import(x)` calls go through this function, which bin/run.js passes in.
 */
const IMPORT_HOOK = '__k3sctlImport';

/** esbuild options of both bundles (each adds its entry, externals and plugins). */
const NODE_BUNDLE = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  write: false,
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'error',
};

/** Throws when `code` still holds a dynamic import() that does not go through IMPORT_HOOK. */
function assertNoDynamicImport(code) {
  const left = /(^|[^\w$.'"`])import\(/.exec(code);
  if (left) throw new Error(`bundle: unexpected dynamic import() in the bundle: ${left[0]}`);
}

module.exports = { IMPORT_HOOK, NODE_BUNDLE, assertNoDynamicImport };
