// Start-up time of commands (issue 15, bench/startup.js): a command that runs loads our compiled
// modules, the AWS SDK clients, smithy, zod and yaml: some 300 CommonJS files whose reading, resolution
// and compilation took most of a sandbox command's time. scripts/build.js runs this script to bundle
// every command, with everything they import, into one file, dist/bundle/commands.js, from the tsc
// output (so the bundle runs the same JavaScript as dist/). bin/run.js loads it (with a V8 code cache)
// when oclif requires a command module under dist/commands/. Each module keeps its lazy CommonJS
// wrapper, so a command executes only the modules it requires (the sandbox only with --sandbox, an
// SDK client only when used). @oclif/core stays outside (bin/run.js serves its own bundle for it), and
// so do the manifest-driven lazy loading and --help/--version, which load no command code at all.
const fs = require('node:fs');
const path = require('node:path');
const { IMPORT_HOOK, NODE_BUNDLE, assertNoDynamicImport } = require('./bundleShared');

// node-ssh and ssh2 load optional native add-ons by computed paths; they are only used by `kubeconfig`
// over SSH. @inquirer/prompts (with iconv-lite, half a megabyte) only asks questions on a terminal.
// They stay packages in node_modules, loaded as before.
const EXTERNAL = ['@oclif/core', 'node-ssh', 'ssh2', '@inquirer/prompts'];

/** The command modules tsc wrote, as ids relative to the commands folder ('cluster/create'). */
function commandModules(commandsDir) {
  const ids = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.js'))
        ids.push(path.relative(commandsDir, file).slice(0, -3).split(path.sep).join('/'));
    }
  };
  walk(commandsDir);
  return ids.sort();
}

/**
 * A module that reads `__dirname` (src/userdata/render.ts finds userdata/ from it) sees the bundle's
 * folder once bundled: only right when the module sits at the same depth below dist/ as the bundle.
 */
function sameDepthDirname(distDir, bundleDir) {
  const depth = (dir) => path.relative(distDir, dir).split(path.sep).length;
  return {
    name: 'same-depth-dirname',
    setup(build) {
      build.onLoad({ filter: /\.js$/ }, (args) => {
        if (!args.path.startsWith(distDir + path.sep)) return undefined;
        const source = fs.readFileSync(args.path, 'utf8');
        if (/\b__(dirname|filename)\b/.test(source) && depth(path.dirname(args.path)) !== depth(bundleDir))
          throw new Error(`${args.path} reads __dirname/__filename, which would be the bundle's folder`);
        return { contents: source, loader: 'js' };
      });
    },
  };
}

/** `node scripts/bundle-commands.js DIST` (run by scripts/build.js on the tsc output DIST). */
async function bundleCommands(distDir) {
  const esbuild = require('esbuild');
  const commandsDir = path.join(distDir, 'commands');
  const outfile = path.join(distDir, 'bundle', 'commands.js');
  const ids = commandModules(commandsDir);
  if (ids.length === 0) throw new Error(`no command modules in ${commandsDir}`);
  const entries = ids.map(
    (id) => `  ${JSON.stringify(id)}: () => require(${JSON.stringify(`./commands/${id}.js`)}),`,
  );
  const result = await esbuild.build({
    stdin: {
      contents: `exports.commands = {\n${entries.join('\n')}\n};\n`,
      resolveDir: distDir,
      loader: 'js',
      sourcefile: 'commands-entry.js',
    },
    ...NODE_BUNDLE,
    outfile,
    // Module names in the bundle relative to dist/ ('commands/cluster/create.js'), not to the build's
    // temporary folder: the same sources give the same bundle.
    absWorkingDir: distDir,
    external: EXTERNAL,
    plugins: [sameDepthDirname(distDir, path.dirname(outfile))],
  });
  if (result.outputFiles.length !== 1) throw new Error('esbuild: expected one output file');
  // bin/run.js compiles the bundle with vm.Script, where import() fails (scripts/bundle-core.js): the
  // SDK's `await import("node:http")` (instance metadata credentials) and the like go through the
  // import function bin/run.js passes in.
  const code = result.outputFiles[0].text.replace(
    /\bawait import\(("node:[\w/]+")\)/g,
    `await ${IMPORT_HOOK}($1)`,
  );
  assertNoDynamicImport(code);
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  fs.writeFileSync(outfile, code);
}

bundleCommands(path.resolve(process.argv[2])).catch((error) => {
  console.error(error);
  process.exit(1);
});
