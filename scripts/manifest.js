#!/usr/bin/env node
// Writes oclif.manifest.json after the build, so the CLI lists commands and prints help without
// requiring every command module (start-up time; see bench/startup.js).
const fs = require('node:fs');
const path = require('node:path');
const { Plugin } = require('@oclif/core');

(async () => {
  const root = path.resolve(__dirname, '..');
  const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true });
  await plugin.load();
  // Written aside and renamed into place: a CLI starting meanwhile reads the old manifest or the new one.
  const file = path.join(root, 'oclif.manifest.json');
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(plugin.manifest));
  fs.renameSync(tmp, file);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
