// `k3sctl doctor` and the preflight of `cluster create` against moto, through bin/run.js
// --endpoint-url, asserting with the test's own SDK clients. moto has STS (the caller is its default
// user), no IAM policy simulator (SimulatePrincipalPolicy answers HTTP 500: "not checked"), the EC2
// vCPU quota through the harness's patch (moto_server.py, workaround 5: 1152 vCPUs), and route tables
// (its default VPC has none to the internet; the test builds one with an internet gateway, one whose
// private subnet goes out through a NAT gateway, and one with no way out).
import {
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeRouteTablesCommand,
  DescribeVpcsCommand,
  EC2Client,
  ModifySubnetAttributeCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { emulatorCli, explain, type JsonResult } from '../helpers/emulatorCli';
import { emulatorSkipped, MOTO_CREDENTIALS, MOTO_REGION, useMoto } from '../helpers/moto';

const maybe = emulatorSkipped() ? describe.skip : describe;

maybe('doctor against moto', () => {
  const motoServer = useMoto();
  let ec2: EC2Client;
  let k3: (args: string[]) => Promise<JsonResult>;
  let defaultVpc: string;

  /** A VPC with an internet gateway attached and routed from its main table. */
  async function routeToInternet(vpcId: string): Promise<string> {
    const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    const main = (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'association.main', Values: ['true'] }] }))).RouteTables![0];
    await ec2.send(new CreateRouteCommand({ RouteTableId: main.RouteTableId!, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    return igw;
  }

  beforeAll(async () => {
    const moto = motoServer();
    const config = { region: MOTO_REGION, credentials: MOTO_CREDENTIALS, endpoint: moto.endpoint };
    ec2 = new EC2Client(config);
    k3 = emulatorCli(moto, undefined, { inProcess: true });
    defaultVpc = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0].VpcId!;
    // moto's default VPC has no internet gateway (AWS's has): give it one, as AWS does.
    await routeToInternet(defaultVpc);
  }, 120_000);

  it('reports the caller, the region and the endpoint; the simulator moto lacks is "not checked"; the quota and the routes pass', async () => {
    const r = await k3(['doctor']);
    expect({ code: r.code, why: r.code ? explain(r) : '' }).toEqual({ code: 0, why: '' });
    expect(r.json).toMatchObject({
      ok: true,
      identity: { account: '123456789012', arn: 'arn:aws:sts::123456789012:user/moto' },
      region: { name: 'us-east-1', source: 'AWS_REGION' },
      endpoint: { url: motoServer().endpoint, source: '--endpoint-url' },
      cluster: { name: 'example', vpcId: defaultVpc },
      quota: { status: 'ok', quota: 1152, inUseVcpus: 0, launchVcpus: 10 },
      network: { status: 'ok' },
    });
    expect(r.json.checks.map((c: { check: string; status: string }) => [c.check, c.status])).toEqual([
      ['identity', 'ok'],
      ['permissions', 'not-checked'],
      ['quota', 'ok'],
      ['network', 'ok'],
    ]);
    expect(r.json.permissions.reason).toMatch(
      /^could not simulate the policies of arn:aws:iam::123456789012:user\/moto: iam:SimulatePrincipalPolicy failed \(HTTP 500\)/,
    );
  });

  it('finds the subnets of a VPC without a route to the internet (exit 2, the report in the error)', async () => {
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16' }))).Vpc!.VpcId!;
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.40.1.0/24', AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
    const r = await k3(['doctor', '--vpc-id', vpc]);
    expect(r.code).toBe(2);
    expect(r.json.error).toMatchObject({
      type: 'DoctorFailedError',
      message: `1 check(s) failed: network (1 of 1 subnet(s) of ${vpc} may not reach the internet: instances could not download k3s)`,
    });
    expect(r.json.error.report.network.subnets).toEqual([
      expect.objectContaining({ subnetId: subnet, association: 'main', route: { kind: 'none' }, problem: expect.stringContaining('no route to the internet') }),
    ]);
  });

  it('accepts a public subnet on an internet gateway and a private one behind a NAT gateway; a public subnet without public IPs fails', async () => {
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16' }))).Vpc!.VpcId!;
    const igw = await routeToInternet(vpc);
    const pub = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.50.1.0/24', AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
    const priv = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.50.2.0/24', AvailabilityZone: 'us-east-1b' }))).Subnet!.SubnetId!;
    const eip = (await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }))).AllocationId!;
    const nat = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: pub, AllocationId: eip }))).NatGateway!.NatGatewayId!;
    const privateTable = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpc }))).RouteTable!.RouteTableId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: privateTable, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat }));
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: privateTable, SubnetId: priv }));

    // The public subnet does not give instances a public IP yet: they could not use the gateway.
    const noIp = await k3(['doctor', '--vpc-id', vpc]);
    expect(noIp.code).toBe(2);
    expect(noIp.json.error.report.network.subnets).toEqual([
      expect.objectContaining({ subnetId: pub, route: { kind: 'internet-gateway', target: igw }, mapPublicIpOnLaunch: false, problem: expect.stringContaining('MapPublicIpOnLaunch is false') }),
      expect.objectContaining({ subnetId: priv, association: 'explicit', routeTableId: privateTable, route: { kind: 'nat-gateway', target: nat } }),
    ]);

    await ec2.send(new ModifySubnetAttributeCommand({ SubnetId: pub, MapPublicIpOnLaunch: { Value: true } }));
    const r = await k3(['doctor', '--vpc-id', vpc]);
    expect({ code: r.code, why: r.code ? explain(r) : '' }).toEqual({ code: 0, why: '' });
    expect(r.json.network.subnets.map((s: { subnetId: string; route: { kind: string } }) => [s.subnetId, s.route.kind])).toEqual([
      [pub, 'internet-gateway'],
      [priv, 'nat-gateway'],
    ]);
  });

  it('counts running instances against the vCPU quota; cluster create then fails its preflight before any write', async () => {
    // 12 x m5.24xlarge = 1152 vCPUs: the whole quota, in use by something else.
    const reservation = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', InstanceType: 'm5.24xlarge', MinCount: 12, MaxCount: 12 }));
    const ids = reservation.Instances!.map((i) => i.InstanceId!);
    try {
      const r = await k3(['doctor']);
      expect(r.code).toBe(2);
      expect(r.json.error.report.quota).toMatchObject({ status: 'fail', quota: 1152, inUseVcpus: 1152, launchVcpus: 10 });
      expect(r.json.error.message).toBe('1 check(s) failed: quota (10 vCPUs to run + 1152 in use by other On-Demand Standard instances > quota 1152 (L-1216C47A))');

      const iam = new IAMClient({ region: MOTO_REGION, credentials: MOTO_CREDENTIALS, endpoint: motoServer().endpoint });
      const ssm = new SSMClient({ region: MOTO_REGION, credentials: MOTO_CREDENTIALS, endpoint: motoServer().endpoint });
      const rolesBefore = (await iam.send(new ListRolesCommand({}))).Roles?.length;
      const create = await k3(['cluster', 'create', 'demo', '--yes', '--no-wait']);
      expect(create.code).toBe(2);
      expect(create.json.error).toMatchObject({
        type: 'PreflightError',
        message: expect.stringContaining('On-Demand vCPU quota: 10 vCPUs to run + 1152 in use by other On-Demand Standard instances > quota 1152 (L-1216C47A)'),
      });
      expect((await iam.send(new ListRolesCommand({}))).Roles?.length).toBe(rolesBefore);
      await expect(ssm.send(new GetParameterCommand({ Name: '/k3sctl/clusters/demo/config' }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
    } finally {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
    }
  });
});
