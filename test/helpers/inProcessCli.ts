// Runs k3sctl commands in the test's own process (a spawned CLI costs ~2.3 s on 2 cores): the command
// class from src/commands, run through oclif with a Config loaded once, stdout and stderr captured, the
// exit code taken from the error oclif's exit() throws (BaseCommand's catch ends every failure there).
// The environment of a run is the one a user's shell would give; it is restored afterwards. Also: a
// local HTTP server that counts every request it receives (and answers 500), to stand for AWS behind
// --endpoint-url: a run that makes no AWS call of any kind leaves its count unchanged.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Config } from '@oclif/core';

const ROOT = path.resolve(__dirname, '../..');

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

let configPromise: Promise<Config> | undefined;

/**
 * oclif's Config of the package, loaded once. Its platform probe is an ESM import() (wsl-utils), which
 * jest's CommonJS sandbox cannot run; oclif wraps it so that tests can stub it, as here.
 */
async function loadConfig(): Promise<Config> {
  const osUtil = require(path.join(path.dirname(require.resolve('@oclif/core')), 'util/os.js')) as { getPlatform: () => Promise<string> };
  osUtil.getPlatform = async () => os.platform();
  return Config.load({ root: ROOT });
}

/** The source module of a command id's words (`cluster create` -> src/commands/cluster/create). */
function commandModule(argv: string[]): { id: string; file: string; rest: string[] } {
  const fs = require('node:fs') as typeof import('node:fs');
  for (const n of [2, 1]) {
    const words = argv.slice(0, n);
    if (words.length < n || words.some((w) => w.startsWith('-'))) continue;
    const file = path.join(ROOT, 'src/commands', ...words);
    if (fs.existsSync(`${file}.ts`)) return { id: words.join(':'), file, rest: argv.slice(n) };
  }
  throw new Error(`no command for ${argv.join(' ')}`);
}

/** Environment variables a run never inherits from the test's own (they would change what it does). */
const SCRUBBED = /^(K3SCTL_|AWS_)|^(KUBECONFIG|SSH_AUTH_SOCK)$/;

/**
 * Runs `argv` in process with exactly `env` (plus PATH, HOME and the like of the test process; no
 * K3SCTL_* or AWS_* variable of its own), stdin not a terminal.
 */
export async function runInProcess(argv: string[], env: Record<string, string>): Promise<InProcessResult> {
  configPromise ??= loadConfig();
  const config = await configPromise;
  const { id, file, rest } = commandModule(argv);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const Cmd = require(file).default as any;
  const savedEnv = { ...process.env };
  for (const k of Object.keys(process.env)) if (SCRUBBED.test(k)) delete process.env[k];
  Object.assign(process.env, env);
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  const capture = (into: string[]) =>
    ((chunk: string | Uint8Array, ...args: unknown[]) => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = args.find((a) => typeof a === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  const exitCode = process.exitCode;
  let code = 0;
  try {
    const cmd = new Cmd(rest, config);
    cmd.id = id;
    await cmd._run();
  } catch (error) {
    const exit = (error as { oclif?: { exit?: number } }).oclif?.exit;
    if (exit === undefined) throw error;
    code = exit;
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    process.exitCode = exitCode;
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

export interface CountingAws {
  url: string;
  /** Requests received so far. */
  count(): number;
  requests: { method?: string; url?: string; target?: string }[];
  close(): Promise<void>;
}

/** A stand-in for every AWS endpoint: counts each request and answers 500. */
export async function countingAws(): Promise<CountingAws> {
  const requests: CountingAws['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, target: req.headers['x-amz-target'] as string | undefined });
    req.resume();
    req.on('end', () => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('k3sctl test: no AWS call was expected');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => requests.length,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
