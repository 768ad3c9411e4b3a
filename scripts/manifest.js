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
  fs.writeFileSync(path.join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
