#!/usr/bin/env node
// Start-up time (issue 2, bench/startup.js): the build bundles @oclif/core into dist/oclif-core.js
// (scripts/bundle-core.js) and stores a V8 code cache of it beside it (dist/oclif-core.js.cache,
// written by running `k3sctl --version` and `k3sctl cluster --help` at build time with K3SCTL_WRITE_CODE_CACHE=1).
// This file loads the bundle as a CommonJS module compiled with that cache (a cache V8 rejects, e.g.
// from another Node version, only costs the compile time), and registers it as the module of
// node_modules/@oclif/core, so our commands' `require('@oclif/core')` get the same copy. Without the
// bundle (before a build) it falls back to the package itself.
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

function loadBundledCore() {
  const file = path.join(__dirname, '..', 'dist', 'oclif-core.js');
  let source;
  try {
    source = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const cacheFile = `${file}.cache`;
  const writeCache = process.env.K3SCTL_WRITE_CODE_CACHE === '1';
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // The bundle's dynamic import()s (of ESM plugins) call __k3sctlImport: an import() in a vm.Script
  // would need an experimental loader option on Node 20 (scripts/bundle-core.js).
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
  try {
    Module._cache[require.resolve('@oclif/core')] = mod;
  } catch {
    // @oclif/core not installed next to us: commands would fail to load anyway.
  }
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

(loadBundledCore() ?? require('@oclif/core')).execute({ dir: __dirname });
