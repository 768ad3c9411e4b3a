// VPC route tables, read to answer one question: can instances in a subnet reach the internet (k3s and
// its images are downloaded at boot)? A subnet uses the route table explicitly associated with it,
// else its VPC's main table; it reaches the internet when that table routes 0.0.0.0/0 to an internet
// gateway (instances then need a public IP) or to a NAT gateway. Other targets (a transit gateway, a
// NAT instance's interface, a peering) may or may not lead out: reported as unknown.
import { paginateDescribeRouteTables, type RouteTable } from '@aws-sdk/client-ec2';
import type { AwsClients } from '../aws/clients';

export type InternetRoute =
  | { kind: 'internet-gateway'; target: string }
  | { kind: 'nat-gateway'; target: string }
  | { kind: 'unknown'; target: string }
  | { kind: 'none' };

export interface SubnetRoute {
  subnetId: string;
  routeTableId?: string;
  /** How the table was chosen: its own association, or the VPC's main table. */
  association: 'explicit' | 'main' | 'none';
  route: InternetRoute;
}

export async function listVpcRouteTables(clients: AwsClients, vpcId: string): Promise<RouteTable[]> {
  const out: RouteTable[] = [];
  for await (const page of paginateDescribeRouteTables({ client: clients.ec2 }, { Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })) {
    out.push(...(page.RouteTables ?? []));
  }
  return out;
}

/** The default route (0.0.0.0/0) of a table, classified; a blackhole route is none. */
export function internetRouteOf(table: RouteTable | undefined): InternetRoute {
  const route = table?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0' && r.State !== 'blackhole');
  if (!route) return { kind: 'none' };
  if (route.GatewayId?.startsWith('igw-')) return { kind: 'internet-gateway', target: route.GatewayId };
  if (route.NatGatewayId) return { kind: 'nat-gateway', target: route.NatGatewayId };
  const target = route.TransitGatewayId ?? route.NetworkInterfaceId ?? route.InstanceId ?? route.VpcPeeringConnectionId ?? route.GatewayId ?? route.CoreNetworkArn ?? 'an unnamed target';
  return { kind: 'unknown', target };
}

/** The route to the internet of each subnet, from its VPC's route tables. */
export function subnetInternetRoutes(tables: RouteTable[], subnetIds: string[]): SubnetRoute[] {
  const main = tables.find((t) => t.Associations?.some((a) => a.Main));
  return subnetIds.map((subnetId) => {
    const own = tables.find((t) => t.Associations?.some((a) => a.SubnetId === subnetId));
    const table = own ?? main;
    return {
      subnetId,
      routeTableId: table?.RouteTableId,
      association: own ? 'explicit' : main ? 'main' : 'none',
      route: internetRouteOf(table),
    };
  });
}
