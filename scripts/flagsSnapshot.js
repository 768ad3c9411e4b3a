#!/usr/bin/env node
// The command-line surface of every command (flags and arguments) extracted from oclif.manifest.json,
// committed as test/cli/flags.snapshot.json so that an accidental breaking change (a renamed or
// removed flag, a lost environment fallback, a new required flag, a changed default) fails
// test/cli/flagsSnapshot.test.ts. Regenerate after an intended change:
//   npm run build && node scripts/flagsSnapshot.js            (or K3SCTL_UPDATE_SNAPSHOT=1 npx jest test/cli/flagsSnapshot.test.ts)
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const MANIFEST = path.join(ROOT, 'oclif.manifest.json');
const SNAPSHOT = path.join(ROOT, 'test/cli/flags.snapshot.json');

function flagEntry(flag) {
  const entry = {
    type: flag.type,
    env: flag.env ?? null,
    required: Boolean(flag.required),
    multiple: Boolean(flag.multiple),
    default: flag.default ?? null,
  };
  if (flag.char) entry.char = flag.char;
  if (flag.type === 'boolean' && flag.allowNo) entry.allowNo = true;
  if (flag.options?.length) entry.options = [...flag.options];
  if (flag.aliases?.length) entry.aliases = [...flag.aliases].sort();
  if (flag.exclusive?.length) entry.exclusive = [...flag.exclusive].sort();
  if (flag.hidden) entry.hidden = true;
  return entry;
}

function argEntry(arg) {
  const entry = { required: Boolean(arg.required), default: arg.default ?? null };
  if (arg.options?.length) entry.options = [...arg.options];
  return entry;
}

/** { "cluster create": { strict, args: {NAME: ...} (in order), flags: {name: ...} (sorted) } }, commands sorted. */
function flagsSnapshot(manifest) {
  const out = {};
  for (const id of Object.keys(manifest.commands).sort()) {
    const cmd = manifest.commands[id];
    const flags = {};
    for (const name of Object.keys(cmd.flags).sort()) flags[name] = flagEntry(cmd.flags[name]);
    const args = {};
    for (const [name, arg] of Object.entries(cmd.args ?? {})) args[name] = argEntry(arg);
    out[id.replace(/:/g, ' ')] = { strict: cmd.strict !== false, args, flags };
  }
  return out;
}

function readManifest() {
  if (!fs.existsSync(MANIFEST)) throw new Error(`${MANIFEST} is missing: run npm run build first`);
  return JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
}

function render(snapshot) {
  return `${JSON.stringify(snapshot, null, 2)}\n`;
}

module.exports = { flagsSnapshot, readManifest, render, SNAPSHOT, MANIFEST };

if (require.main === module) {
  fs.writeFileSync(SNAPSHOT, render(flagsSnapshot(readManifest())));
  process.stderr.write(`wrote ${path.relative(ROOT, SNAPSHOT)}\n`);
}
