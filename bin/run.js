#!/usr/bin/env node
// Start-up time (issues 2 and 15, bench/startup.js): help texts come pre-rendered from dist/help.json
// (printPreRenderedHelp below); the build bundles @oclif/core into dist/oclif-core.js
// (scripts/bundle-core.js) and every command, with our modules and the AWS SDK, into
// dist/bundle/commands.js (scripts/bundle-commands.js), and stores a V8 code cache beside each
// (FILE.cache, written by runs of the CLI at build time with K3SCTL_WRITE_CODE_CACHE=1, see
// scripts/build.js). This file loads a bundle as a CommonJS module compiled with its cache (a cache V8
// rejects, e.g. from another Node version, only costs the compile time). The core bundle is registered
// as the module of node_modules/@oclif/core, so our commands' `require('@oclif/core')` get the same
// copy. The commands bundle is loaded only when oclif requires a command module under dist/commands/
// (from the manifest: --help and --version load none), and serves that module from the bundle.
// Without the bundles (before a build) it falls back to the package and to the tsc output.
const { isAscii } = require('node:buffer');
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

const DIST = path.join(__dirname, '..', 'dist');
const writeCache = process.env.K3SCTL_WRITE_CODE_CACHE === '1';

/** Runs FILE as a CommonJS module compiled with FILE.cache; undefined when FILE does not exist. */
function loadBundle(file) {
  let bytes;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  // An ASCII file (esbuild escapes non-ASCII characters) decodes as Latin-1 to the same string, several
  // times faster than UTF-8 for the megabytes of the commands bundle.
  const source = isAscii(bytes) ? bytes.latin1Slice() : bytes.toString('utf8');
  const cacheFile = `${file}.cache`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // The bundles' dynamic import()s (of ESM plugins, of node: modules) call __k3sctlImport: an import()
  // in a vm.Script would need an experimental loader option on Node 20 (scripts/bundle-core.js).
  const wrapped = `(function (exports, require, module, __filename, __dirname, __k3sctlImport) { ${source}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  const dir = path.dirname(file);
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(dir);
  Module._cache[file] = mod;
  script.runInThisContext()(
    mod.exports,
    Module.createRequire(file),
    mod,
    file,
    dir,
    (specifier) => import(specifier),
  );
  mod.loaded = true;
  if (writeCache) {
    // After the run, so the functions it compiled are in the cache too (with those of the cache read).
    process.on('exit', () => {
      const tmp = `${cacheFile}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    });
  }
  return mod.exports;
}

function loadBundledCore() {
  const core = loadBundle(path.join(DIST, 'oclif-core.js'));
  if (!core) return undefined;
  try {
    Module._cache[require.resolve('@oclif/core')] = Module._cache[path.join(DIST, 'oclif-core.js')];
  } catch {
    // @oclif/core not installed next to us: commands would fail to load anyway.
  }
  return core;
}

/**
 * oclif requires a command by its absolute path (dist/commands/cluster/create.js, from the manifest):
 * that module is served from dist/bundle/commands.js when the bundle exists, else read as usual.
 */
function serveCommandsFromBundle() {
  const commandsDir = path.join(DIST, 'commands') + path.sep;
  const bundleFile = path.join(DIST, 'bundle', 'commands.js');
  if (!fs.existsSync(bundleFile)) return;
  let bundle;
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    if (typeof request === 'string' && request.startsWith(commandsDir) && request.endsWith('.js')) {
      bundle ??= loadBundle(bundleFile);
      const command = bundle?.commands[request.slice(commandsDir.length, -3).split(path.sep).join('/')];
      if (command) return command();
    }
    return load.apply(this, arguments);
  };
}

/**
 * `k3sctl WORDS --help` printed from dist/help.json (scripts/build.js renders every entry with oclif at
 * build time) when the output cannot differ from oclif's: stdout is not a terminal (80 columns, no
 * colour) and neither OCLIF_COLUMNS nor FORCE_COLOR says otherwise. Anything else goes to oclif.
 */
function printPreRenderedHelp() {
  const argv = process.argv.slice(2);
  if (argv.at(-1) !== '--help' || process.stdout.isTTY || process.env.OCLIF_COLUMNS || process.env.FORCE_COLOR) return false;
  let texts;
  try {
    texts = JSON.parse(fs.readFileSync(path.join(DIST, 'help.json'), 'utf8')).texts;
  } catch {
    return false;
  }
  const key = argv.slice(0, -1).join(' ');
  if (!Object.hasOwn(texts, key)) return false;
  process.stdout.write(texts[key]);
  return true;
}

if (!printPreRenderedHelp()) {
  serveCommandsFromBundle();
  (loadBundledCore() ?? require('@oclif/core')).execute({ dir: __dirname });
}
