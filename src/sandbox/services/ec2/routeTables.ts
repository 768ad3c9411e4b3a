// Route tables, as EC2 models the ones every VPC starts with: each VPC has a main route table with
// its `local` route; the default VPC's main table also routes 0.0.0.0/0 to the default VPC's
// internet gateway. A VPC made with CreateVpc gets only `local` (no route to the internet) until
// someone adds a gateway, which the simulated account does not offer. The tables are derived from
// the VPCs (ids are digests of the VPC id), so they need no state of their own and take no id from
// the account's allocator.
import { createHash } from 'node:crypto';
import { awsError } from '../../errors';
import { paginate } from '../../pagination';
import type { SandboxContext } from '../../account';
import { applyFilters } from './filters';
import { ec2State, type Tag, type Vpc } from './state';
import type * as Ec2Sdk from '@aws-sdk/client-ec2';
import type { HandlerOf, OperationsOf, SdkOperation } from '../../service';

type Handler<Op extends SdkOperation<typeof Ec2Sdk>> = HandlerOf<typeof Ec2Sdk, Op>;

interface RouteTable {
  RouteTableId: string;
  VpcId: string;
  OwnerId: string;
  Associations: {
    Main: boolean;
    RouteTableAssociationId: string;
    RouteTableId: string;
    SubnetId?: string;
    AssociationState: { State: Ec2Sdk.RouteTableAssociationStateCode };
  }[];
  Routes: { DestinationCidrBlock: string; GatewayId: string; Origin: Ec2Sdk.RouteOrigin; State: Ec2Sdk.RouteState }[];
  PropagatingVgws: never[];
  Tags: Tag[];
}

function derivedId(prefix: string, vpcId: string): string {
  return `${prefix}${createHash('sha256').update(`${prefix}${vpcId}`).digest('hex').slice(0, 17)}`;
}

/** The internet gateway attached to the default VPC (every default VPC has one). */
export function defaultInternetGatewayId(vpc: Vpc): string | undefined {
  return vpc.IsDefault ? derivedId('igw-', vpc.VpcId) : undefined;
}

function mainRouteTable(ctx: SandboxContext, vpc: Vpc): RouteTable {
  const RouteTableId = derivedId('rtb-', vpc.VpcId);
  const igw = defaultInternetGatewayId(vpc);
  return {
    RouteTableId,
    VpcId: vpc.VpcId,
    OwnerId: ctx.sb.state.accountId,
    Associations: [{ Main: true, RouteTableAssociationId: derivedId('rtbassoc-', vpc.VpcId), RouteTableId, AssociationState: { State: 'associated' } }],
    Routes: [
      { DestinationCidrBlock: vpc.CidrBlock, GatewayId: 'local', Origin: 'CreateRouteTable', State: 'active' },
      ...(igw ? [{ DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw, Origin: 'CreateRoute' as const, State: 'active' as const }] : []),
    ],
    PropagatingVgws: [],
    Tags: [],
  };
}

const describeRouteTables: Handler<'DescribeRouteTables'> = (ctx, input) => {
  const tables = Object.values(ec2State(ctx).vpcs).map((v) => mainRouteTable(ctx, v));
  const ids: string[] = input.RouteTableIds ?? [];
  const filtered = applyFilters(
    tables.filter((t) => ids.length === 0 || ids.includes(t.RouteTableId)),
    input.Filters,
    (t, name) =>
      ({
        'route-table-id': [t.RouteTableId],
        'vpc-id': [t.VpcId],
        'owner-id': [t.OwnerId],
        'association.main': t.Associations.map((a) => String(a.Main)),
        'association.subnet-id': t.Associations.map((a) => a.SubnetId),
        'association.route-table-association-id': t.Associations.map((a) => a.RouteTableAssociationId),
        'route.destination-cidr-block': t.Routes.map((r) => r.DestinationCidrBlock),
        'route.gateway-id': t.Routes.map((r) => r.GatewayId),
        'route.state': t.Routes.map((r) => r.State),
      })[name],
  );
  for (const id of ids) {
    if (!tables.some((t) => t.RouteTableId === id)) {
      throw awsError('InvalidRouteTableID.NotFound', `The routeTable ID '${id}' does not exist`);
    }
  }
  const { page, nextToken } = paginate(filtered, input.NextToken, input.MaxResults);
  return { RouteTables: page, NextToken: nextToken };
};

export const routeTableOperations = {
  DescribeRouteTables: describeRouteTables,
} satisfies OperationsOf<typeof Ec2Sdk>;
