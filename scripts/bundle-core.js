// Start-up time (bench/startup.js, issue 2): @oclif/core is ~160 CommonJS modules (semver, minimatch,
// ejs, ...) whose resolution and loading dominate `k3sctl --version` and `k3sctl <topic> --help`.
// scripts/build.js runs this script to bundle @oclif/core and its dependencies with esbuild into one
// file, dist/oclif-core.js, which bin/run.js loads (with a V8 code cache, see writeCodeCache) instead
// of node_modules/@oclif/core. Our commands stay separate modules compiled by tsc and loaded lazily by
// oclif from the manifest, so --help/--version still load none of them (nor the AWS SDK); bin/run.js
// makes their `require('@oclif/core')` return the bundle, so one copy of oclif runs.
const fs = require('node:fs');
const path = require('node:path');

const { IMPORT_HOOK, NODE_BUNDLE, assertNoDynamicImport } = require('./bundleShared');
const BANNER = `var ${IMPORT_HOOK} = ${IMPORT_HOOK} || ((specifier) => import(specifier));`;
const ROOT = path.resolve(__dirname, '..');
const CORE_DIR = path.dirname(require.resolve('@oclif/core/package.json', { paths: [ROOT] }));

/** oclif's lib/cache.js reads its own version from `${__dirname}/../package.json`: inline it. */
const patchCoreCache = {
  name: 'oclif-core-cache-version',
  setup(build) {
    build.onLoad({ filter: /[\\/]@oclif[\\/]core[\\/]lib[\\/]cache\.js$/ }, (args) => {
      const source = fs.readFileSync(args.path, 'utf8');
      const read =
        "(0, node_fs_1.readFileSync)((0, node_path_1.join)(__dirname, '..', 'package.json'), 'utf8')";
      if (!source.includes(read))
        throw new Error(`${args.path}: the package.json read to inline has changed`);
      const pkg = fs.readFileSync(path.join(CORE_DIR, 'package.json'), 'utf8');
      return { contents: source.replace(read, JSON.stringify(pkg)), loader: 'js' };
    });
  },
};

/**
 * oclif's help renders every description, flag and example through ejs, which compiles each string into
 * a new Function (a third of `k3sctl cluster create --help`). A string with no `<%` and no `%>` has no
 * tag for ejs to act on (a lone `%>` is dropped by ejs, so it still goes through it) and renders as
 * itself: it is returned as is.
 */
const patchHelpTemplate = {
  name: 'oclif-core-help-template',
  setup(build) {
    build.onLoad({ filter: /[\\/]@oclif[\\/]core[\\/]lib[\\/]help[\\/]util\.js$/ }, (args) => {
      const source = fs.readFileSync(args.path, 'utf8');
      const render = 'return ejs_1.default.render(t, context);';
      if (!source.includes(render))
        throw new Error(`${args.path}: the ejs render call to short-circuit has changed`);
      const plain = "if (typeof t === 'string' && !t.includes('<%') && !t.includes('%>')) return t; ";
      return { contents: source.replace(render, plain + render), loader: 'js' };
    });
  },
};

/**
 * string-width 4 (help wrapping measures every word and line with it) runs a 10 KB emoji regex over
 * each string. A string of printable ASCII characters (0x20-0x7E) holds no ANSI escape, no emoji, no
 * control, combining or wide character, so its width is its length: that case is answered first.
 */
const patchStringWidth = {
  name: 'string-width-ascii',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]string-width[\\/]index\.js$/ }, (args) => {
      const source = fs.readFileSync(args.path, 'utf8');
      const start = "\tstring = stripAnsi(string);\n";
      if (!source.includes("string = string.replace(emojiRegex(), '  ');") || !source.includes(start))
        throw new Error(`${args.path}: the string-width code to shortcut has changed`);
      const ascii = '\tif (/^[\\x20-\\x7E]*$/.test(string)) {\n\t\treturn string.length;\n\t}\n\n';
      return { contents: source.replace(start, ascii + start), loader: 'js' };
    });
  },
};

/** `node scripts/bundle-core.js OUTFILE` (run by scripts/build.js). */
async function bundleCore(outfile) {
  const esbuild = require('esbuild');
  const result = await esbuild.build({
    stdin: {
      contents: "module.exports = require('@oclif/core');",
      resolveDir: ROOT,
      loader: 'js',
      sourcefile: 'oclif-core-entry.js',
    },
    ...NODE_BUNDLE,
    outfile,
    // See importHook below; with a plain require() of the bundle the hook is not passed.
    banner: { js: BANNER },
    // Only used by oclif's development mode (bin/dev.js, which loads the unbundled @oclif/core).
    external: ['typescript', 'ts-node', 'tsx'],
    plugins: [patchCoreCache, patchHelpTemplate, patchStringWidth],
  });
  if (result.outputFiles.length !== 1) throw new Error('esbuild: expected one output file');
  fs.writeFileSync(outfile, importHook(result.outputFiles[0].text));
}

/**
 * The bundle's `await import(x)` calls (oclif loads ESM plugins such as @oclif/plugin-help with them)
 * go through IMPORT_HOOK (scripts/bundleShared.js).
 */
function importHook(code) {
  if (!code.startsWith(BANNER)) throw new Error('bundle: banner not found');
  let body = code.slice(BANNER.length);
  if (!body.includes('await import(')) throw new Error('bundle: no dynamic import() of the plugins found');
  body = body.replaceAll('await import(', `await ${IMPORT_HOOK}(`);
  assertNoDynamicImport(body);
  return BANNER + body;
}

bundleCore(path.resolve(process.argv[2])).catch((error) => {
  console.error(error);
  process.exit(1);
});
