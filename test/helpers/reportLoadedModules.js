// Preloaded with `node -r` by the CLI contract test: at exit, prints to stderr which AWS SDK
// modules were loaded, so the test can assert that --help and --version never load the SDK.
process.on('exit', () => {
  const sdk = Object.keys(require.cache).filter((p) =>
    p.includes(`${require('path').sep}@aws-sdk${require('path').sep}`),
  );
  process.stderr.write(`\nLOADED_SDK_MODULES=${sdk.length}\n`);
});
