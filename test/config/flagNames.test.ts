// The flag each file field is named by in errors is a flag (or argument) its command really has: a
// file value that is wrong is reported as `FILE:LINE field (--flag)`, and the flag must exist.
import AlbCreate from '../../src/commands/alb/create';
import CertificateRequest from '../../src/commands/certificate/request';
import ClusterCreate from '../../src/commands/cluster/create';
import EndpointCreate from '../../src/commands/endpoint/create';
import NodegroupAdd from '../../src/commands/nodegroup/add';
import ControlplaneAdd from '../../src/commands/controlplane/add';
import { CLUSTER_FLAGS, groupFlags } from '../../src/config/cluster';
import { INGRESS_FLAGS } from '../../src/config/ingress';

interface CommandShape {
  baseFlags?: Record<string, unknown>;
  flags?: Record<string, unknown>;
  args?: Record<string, unknown>;
}

/** What a user can type for the command: --flag for each flag (--no-X too), ARG for each argument. */
function namesOf(command: CommandShape): Set<string> {
  return new Set([
    ...Object.keys({ ...command.baseFlags, ...command.flags }).map((f) => `--${f}`),
    ...Object.keys(command.args ?? {}).map((a) => a.toUpperCase()),
  ]);
}

describe('field names in errors', () => {
  it.each([
    ['alb create', INGRESS_FLAGS.alb, AlbCreate],
    ['certificate request', INGRESS_FLAGS.certificate, CertificateRequest],
    ['endpoint create', INGRESS_FLAGS.endpoint, EndpointCreate],
    ['cluster create', CLUSTER_FLAGS, ClusterCreate],
    ['nodegroup add', groupFlags('node'), NodegroupAdd],
    ['controlplane add', groupFlags('control-plane'), ControlplaneAdd],
  ])('every flag a %s file field is named by is a flag of the command', (_command, fields, command) => {
    const names = namesOf(command as unknown as CommandShape);
    const named = Object.values(fields).filter((f): f is string => f !== undefined);
    expect(named.length).toBeGreaterThan(3);
    expect(named.filter((f) => !names.has(f))).toEqual([]);
  });
});
