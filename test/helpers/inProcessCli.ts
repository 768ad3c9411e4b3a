// Runs k3sctl commands in the test's own process (a spawned CLI costs ~1-2.3 s on 2 cores, mostly
// module loading): oclif's own `run` (what bin/run.js calls: help, --version, topics, hooks, then the
// command) with a Config loaded afresh for each run (~5 ms; oclif's help rewrites the command ids of the
// Config it shows), whose commands are the classes of src/commands; what escapes `run` goes to oclif's
// `handle`, as in bin/run.js's `execute`. stdout and stderr are captured (console too); the exit code is
// the one the process would end with: the code of the error oclif's exit() throws (BaseCommand's catch
// ends every failure there), else process.exitCode, or the code of a process.exit() call.
//
// Process-global state is set for the run and restored after it: process.env (exactly the run's
// environment), the current directory, process.exitCode and process.exit, stdin/stdout/stderr not
// being terminals (as under spawn with pipes), console, and the signal handlers a command installs.
// What stays shared between runs of one test file: modules and their caches (loaded once, as jest
// does for any import), e.g. the SDK's cache of shared config files by path. One run at a time: runs
// that must overlap (races, signals, kills) need the spawned CLI (test/helpers/cli.ts).
//
// Also: a local HTTP server that counts every request it receives (and answers 500), to stand for AWS
// behind --endpoint-url: a run that makes no AWS call of any kind leaves its count unchanged.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { format } from 'node:util';
import { Config, handle, run } from '@oclif/core';
import { tempHome, type CliResult } from './cli';

const ROOT = path.resolve(__dirname, '../..');

export type InProcessResult = CliResult;

/** The options of runCli() that mean something in process (nodeArgs do not; a timeout is jest's). */
export interface InProcessOptions {
  home?: string;
  env?: Record<string, string>;
  unsetEnv?: string[];
  timeoutMs?: number;
}

let platformStubbed = false;

/** An oclif module that @oclif/core does not export. */
function oclifLib<T>(file: string): T {
  return require(path.join(path.dirname(require.resolve('@oclif/core')), file)) as T;
}

/** The source module of a command id (`cluster:create` -> src/commands/cluster/create.ts), if any. */
function sourceOf(id: string): string | undefined {
  const file = path.join(ROOT, 'src/commands', ...id.split(':'));
  return fs.existsSync(`${file}.ts`) ? file : undefined;
}

/**
 * oclif's Config of the package. Its platform probe is an ESM import() (wsl-utils), which jest's
 * CommonJS sandbox cannot run; oclif wraps it so that tests can stub it, as here. The root
 * plugin finds its commands in src/ (the code under test, mutants included) instead of dist/; the
 * manifest (help, flags) is the built one, as for bin/run.js.
 */
async function loadConfig(): Promise<Config> {
  if (!platformStubbed) {
    oclifLib<{ getPlatform: () => Promise<string> }>('util/os.js').getPlatform = async () => os.platform();
    platformStubbed = true;
  }
  const config = await Config.load({ root: ROOT });
  const root = config.getPluginsList().find((p) => p.root === ROOT) as unknown as { findCommand: (id: string, opts?: object) => Promise<unknown> };
  const dist = root.findCommand.bind(root);
  root.findCommand = async (id, opts) => {
    const file = sourceOf(id);
    if (!file) return dist(id, opts);
    const cmd = require(file).default as { id?: string; plugin?: unknown; isESM?: boolean; relativePath?: string[] };
    // What oclif's loader sets on a command class it found.
    Object.assign(cmd, { id, plugin: root, isESM: false, relativePath: path.relative(ROOT, file).split(path.sep) });
    return cmd;
  };
  return config;
}

/** The error process.exit() throws in a run (the process would have ended there). */
class ProcessExit extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

const STREAMS = [process.stdin, process.stdout, process.stderr];
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const CONSOLE = ['log', 'info', 'debug', 'warn', 'error', 'trace'] as const;
let running = false;

/**
 * Runs `argv` in process with exactly `env` as process.env, no terminal on any standard stream, and
 * returns what the process would: exit code, stdout, stderr.
 */
async function runIsolated(argv: string[], env: NodeJS.ProcessEnv, terminal = false): Promise<CliResult> {
  if (running) throw new Error('k3sctl in process: another run is in progress; overlapping runs need runCli (a spawned CLI)');
  running = true;
  try {
    const config = await loadConfig();
    return await isolated(env, terminal, async () => {
      try {
        await run(argv, config);
        return process.exitCode === undefined ? 0 : Number(process.exitCode);
      } catch (error) {
        if (error instanceof ProcessExit) return error.code;
        return handled(error as Error);
      }
    });
  } finally {
    running = false;
  }
}

/** What oclif's handle() (bin/run.js's last resort) prints and the code it exits with. */
async function handled(error: Error): Promise<number> {
  const exit = oclifLib<{ Exit: { exit(code?: number): void } }>('errors/handle.js');
  const real = exit.Exit.exit;
  let code: number | undefined;
  exit.Exit.exit = (c = 0) => {
    code ??= c;
  };
  try {
    await handle(error);
  } finally {
    exit.Exit.exit = real;
  }
  return code ?? 1;
}

async function isolated(env: NodeJS.ProcessEnv, terminal: boolean, body: () => Promise<number>): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const savedEnv = { ...process.env };
  const cwd = process.cwd();
  const exitCode = process.exitCode;
  const exit = process.exit;
  const writes = [process.stdout.write, process.stderr.write];
  const ttys = STREAMS.map((s) => Object.getOwnPropertyDescriptor(s, 'isTTY'));
  const listeners = SIGNALS.map((s) => process.listeners(s));
  const consoleMethods = CONSOLE.map((m) => console[m]);

  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, env);
  const capture = (into: string[]) =>
    ((chunk: string | Uint8Array, ...args: unknown[]) => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = args.find((a) => typeof a === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  for (const m of CONSOLE) {
    const into = m === 'log' || m === 'info' || m === 'debug' ? out : err;
    console[m] = (...args: unknown[]) => void into.push(`${format(...args)}\n`);
  }
  // Under spawn with pipes (and stdin ignored) no stream is a terminal; `terminal`: stdin is one.
  for (const s of STREAMS) Object.defineProperty(s, 'isTTY', { value: s === process.stdin && terminal ? true : undefined, configurable: true, writable: true });
  process.exitCode = undefined;
  process.exit = ((code?: number | string | null) => {
    throw new ProcessExit(Number(code ?? process.exitCode ?? 0));
  }) as typeof process.exit;
  let code: number;
  try {
    code = await body();
  } finally {
    process.stdout.write = writes[0];
    process.stderr.write = writes[1];
    CONSOLE.forEach((m, i) => (console[m] = consoleMethods[i] as never));
    STREAMS.forEach((s, i) => {
      const d = ttys[i];
      if (d) Object.defineProperty(s, 'isTTY', d);
      else delete (s as { isTTY?: boolean }).isTTY;
    });
    process.exit = exit;
    process.exitCode = exitCode;
    SIGNALS.forEach((s, i) => {
      for (const l of process.listeners(s)) if (!listeners[i].includes(l)) process.off(s, l);
    });
    if (process.cwd() !== cwd) process.chdir(cwd);
    for (const k of Object.keys(process.env)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/**
 * runCli() (test/helpers/cli.ts) in process: the same arguments, the same environment (the test
 * process's own, K3SCTL_HOME, CI=true, `env` over them; K3SCTL_SANDBOX_FAULTS only when `env` gives it;
 * `unsetEnv` removed) and the same result.
 */
export async function runCliInProcess(args: string[], options: InProcessOptions & { nodeArgs?: string[] } = {}): Promise<CliResult> {
  if (options.nodeArgs?.length) throw new Error('k3sctl in process: node arguments need runCli (a spawned CLI)');
  const env: NodeJS.ProcessEnv = { ...process.env, K3SCTL_HOME: options.home ?? tempHome(), CI: 'true', ...options.env };
  delete env.K3SCTL_SANDBOX_FAULTS;
  for (const name of options.unsetEnv ?? []) delete env[name];
  if (options.env?.K3SCTL_SANDBOX_FAULTS) env.K3SCTL_SANDBOX_FAULTS = options.env.K3SCTL_SANDBOX_FAULTS;
  return runIsolated(args, env);
}

/** Environment variables a run never inherits from the test's own (they would change what it does). */
const SCRUBBED = /^(K3SCTL_|AWS_)|^(KUBECONFIG|SSH_AUTH_SOCK)$/;

/**
 * Runs `argv` in process with exactly `env` (plus PATH, HOME and the like of the test process; no
 * K3SCTL_* or AWS_* variable of its own), stdin not a terminal unless `terminal` (the test then mocks
 * the prompts: src/ui/prompts).
 */
export async function runInProcess(argv: string[], env: Record<string, string>, options: { terminal?: boolean } = {}): Promise<InProcessResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SCRUBBED.test(k)));
  return runIsolated(argv, { ...base, ...env }, options.terminal);
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
