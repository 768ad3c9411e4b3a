// Runs the built CLI against an emulator endpoint (`--endpoint-url`, `--json`) with a temporary
// K3SCTL_HOME and no sandbox or profile settings leaking in from the developer's environment; with
// `inProcess`, the same commands in process through oclif (test/helpers/inProcessCli.ts).
import { runCli, tempHome, type CliResult } from './cli';
import { runCliInProcess } from './inProcessCli';
import type { Moto } from './moto';

export interface JsonResult extends CliResult {
  // The one JSON document of stdout (`{}` when stdout held none: the test then fails on its fields).
  json: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function emulatorCli(
  moto: Pick<Moto, 'endpoint' | 'env'>,
  home = tempHome(),
  options: { inProcess?: boolean } = {},
): (args: string[], endpoint?: string) => Promise<JsonResult> {
  return async (args, endpoint = moto.endpoint) => {
    const res = await (options.inProcess ? runCliInProcess : runCli)([...args, '--endpoint-url', endpoint, '--json'], {
      home,
      timeoutMs: 300_000,
      env: moto.env,
      unsetEnv: ['K3SCTL_SANDBOX', 'K3SCTL_SANDBOX_BEHAVIOR', 'AWS_PROFILE', 'AWS_ENDPOINT_URL', 'K3SCTL_DRY_RUN', 'K3SCTL_YES'],
    });
    let json: JsonResult['json'] = {};
    try {
      json = JSON.parse(res.stdout) as JsonResult['json'];
    } catch {
      // not JSON: the assertions on `json` report it together with stderr
    }
    return { ...res, json };
  };
}

/** A compact description of a failed CLI run for assertion messages. */
export function explain(res: CliResult): string {
  return `exit ${res.code}\nstdout: ${res.stdout.slice(0, 3000)}\nstderr: ${res.stderr.slice(-3000)}`;
}

/** Counts the assertions of the calling test file and prints the total once, when the file ends. */
export function reportAssertionCount(label: string): void {
  let total = 0;
  afterEach(() => {
    total += expect.getState().assertionCalls;
  });
  afterAll(() => {
    process.stderr.write(`${label}: ${total} assertions against moto\n`);
  });
}
