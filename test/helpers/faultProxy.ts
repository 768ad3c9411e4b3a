// An HTTP proxy in front of moto for the emulator's rollback sweep: it forwards every request
// unchanged (method, path, headers, body; the response streamed back) and records the AWS operation
// of each. Armed, it answers the Nth write call itself with a well-formed AWS error in the wire format
// of the request's protocol, so the real SDK parses it as an AWS error that it does not retry:
//   JSON 1.1 (SSM, ACM: X-Amz-Target)          {"__type":"AccessDeniedException"}, 400 (as they answer it)
//   REST-XML (Route 53: /2013-04-01/...)       <ErrorResponse> AccessDenied, 403
//   query, EC2 (Version=2016-11-15)            <Response><Errors> UnauthorizedOperation, 403
//   query, IAM / Auto Scaling / ELBv2          <ErrorResponse> AccessDenied, 403
// Reads are the operations named Describe*, List*, Get* (and the other read prefixes k3sctl counts,
// src/aws/apiCalls.ts); every other operation is a write.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type WireProtocol = 'json' | 'route53' | 'ec2' | 'query';

export interface ProxiedCall {
  /** The API operation, e.g. `RunInstances`, `AmazonSSM.PutParameter` -> `PutParameter`. */
  operation: string;
  protocol: WireProtocol;
  write: boolean;
  /** True for the call the proxy answered with an error instead of forwarding. */
  failed: boolean;
}

export interface FaultProxy {
  endpoint: string;
  /**
   * Fails the Nth write (1-based) counted from now, or each of several (to fail a rollback write
   * too); the record of calls starts anew.
   */
  arm(options: { failWrite: number | number[] }): void;
  /** Forwards everything again; the record of calls starts anew. */
  disarm(): void;
  /** Every call seen since the last arm() or disarm(), reads and writes, in the order they arrived. */
  calls(): ProxiedCall[];
  close(): Promise<void>;
}

// The read prefixes of src/aws/apiCalls.ts, so the proxy and k3sctl's `apiCalls` count alike.
const READ_PREFIXES = ['Describe', 'List', 'Get', 'Lookup', 'Search', 'Test', 'Simulate'];
const EC2_API_VERSION = '2016-11-15';

export function isReadOperation(operation: string): boolean {
  return READ_PREFIXES.some((p) => operation.startsWith(p));
}

/** The operation and protocol of one request, from its target header, path or form body. */
export function classify(
  method: string,
  url: string,
  headers: http.IncomingHttpHeaders,
  body: Buffer,
): { operation: string; protocol: WireProtocol } {
  const target = headers['x-amz-target'];
  if (typeof target === 'string' && target !== '')
    return { operation: target.slice(target.lastIndexOf('.') + 1), protocol: 'json' };
  const path = url.split('?')[0] ?? '';
  if (path.startsWith('/2013-04-01/'))
    return { operation: route53Operation(method, path), protocol: 'route53' };
  const params = new URLSearchParams(body.toString('utf8'));
  const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  const action = params.get('Action') ?? query.get('Action') ?? `${method} ${path}`;
  const version = params.get('Version') ?? query.get('Version');
  return { operation: action, protocol: version === EC2_API_VERSION ? 'ec2' : 'query' };
}

/** Route 53's REST paths (API version 2013-04-01) to operation names. */
function route53Operation(method: string, path: string): string {
  const parts = path.replace(/\/+$/, '').split('/').slice(2); // drop '' and '2013-04-01'
  const [head, id, sub] = parts;
  if (head === 'hostedzone') {
    if (id === undefined) return method === 'POST' ? 'CreateHostedZone' : 'ListHostedZones';
    if (sub === undefined)
      return method === 'DELETE'
        ? 'DeleteHostedZone'
        : method === 'POST'
          ? 'UpdateHostedZoneComment'
          : 'GetHostedZone';
    if (sub === 'rrset') return method === 'POST' ? 'ChangeResourceRecordSets' : 'ListResourceRecordSets';
    if (sub === 'associatevpc') return 'AssociateVPCWithHostedZone';
    if (sub === 'disassociatevpc') return 'DisassociateVPCFromHostedZone';
  }
  if (head === 'hostedzonesbyname') return 'ListHostedZonesByName';
  if (head === 'hostedzonecount') return 'GetHostedZoneCount';
  if (head === 'change') return 'GetChange';
  if (head === 'tags') {
    if (parts.length >= 3) return method === 'POST' ? 'ChangeTagsForResource' : 'ListTagsForResource';
    return 'ListTagsForResources';
  }
  if (head === 'healthcheck')
    return method === 'POST'
      ? 'CreateHealthCheck'
      : method === 'DELETE'
        ? 'DeleteHealthCheck'
        : id
          ? 'GetHealthCheck'
          : 'ListHealthChecks';
  // Unknown to this table: GET reads, anything else writes.
  return method === 'GET' ? `Get ${path}` : `${method} ${path}`;
}

/** The error answer for `operation` in the wire format of its protocol. */
export function errorResponse(
  protocol: WireProtocol,
  operation: string,
): { status: number; contentType: string; body: string } {
  const message = `k3sctl fault proxy: ${operation} refused (injected failure)`;
  const requestId = 'fault-proxy-0000';
  switch (protocol) {
    case 'json':
      return {
        status: 400,
        contentType: 'application/x-amz-json-1.1',
        body: JSON.stringify({ __type: 'AccessDeniedException', message }),
      };
    case 'route53':
      return {
        status: 403,
        contentType: 'text/xml',
        body:
          '<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">' +
          `<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    case 'ec2':
      return {
        status: 403,
        contentType: 'text/xml;charset=UTF-8',
        body: `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      };
    case 'query':
      return {
        status: 403,
        contentType: 'text/xml',
        body: `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
  }
}

/** The error code k3sctl reports (canonical: one trailing Exception dropped) for a call failed on `protocol`. */
export function injectedErrorCode(protocol: WireProtocol): string {
  return protocol === 'ec2' ? 'UnauthorizedOperation' : 'AccessDenied';
}

/** `delayMs`: every call is held that long before it is forwarded (a slower AWS, so a kill lands mid-run). */
export async function startFaultProxy(
  upstreamEndpoint: string,
  options: { delayMs?: number } = {},
): Promise<FaultProxy> {
  const upstream = new URL(upstreamEndpoint);
  let failWrites = new Set<number>();
  let writes = 0;
  let record: ProxiedCall[] = [];
  const agent = new http.Agent({ keepAlive: true });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handle());
    const handle = async () => {
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      const body = Buffer.concat(chunks);
      const method = req.method ?? 'GET';
      const url = req.url ?? '/';
      const { operation, protocol } = classify(method, url, req.headers, body);
      const write = !isReadOperation(operation);
      if (write) writes++;
      const fail = write && failWrites.has(writes);
      record.push({ operation, protocol, write, failed: fail });
      if (fail) {
        const e = errorResponse(protocol, operation);
        res.writeHead(e.status, {
          'content-type': e.contentType,
          'content-length': Buffer.byteLength(e.body),
          'x-amzn-requestid': 'fault-proxy-0000',
        });
        res.end(e.body);
        return;
      }
      const forward = http.request(
        {
          protocol: upstream.protocol,
          hostname: upstream.hostname,
          port: upstream.port,
          method,
          path: url,
          headers: req.headers,
          agent,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.statusMessage, up.rawHeaders);
          up.pipe(res);
        },
      );
      forward.on('error', (error) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`fault proxy: upstream ${upstreamEndpoint} failed: ${error.message}`);
      });
      forward.end(body);
    };
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    arm: ({ failWrite }) => {
      const positions = [failWrite].flat();
      for (const n of positions) {
        if (!Number.isInteger(n) || n < 1) throw new Error(`failWrite must be a positive integer, got ${n}`);
      }
      failWrites = new Set(positions);
      writes = 0;
      record = [];
    },
    disarm: () => {
      failWrites = new Set();
      writes = 0;
      record = [];
    },
    calls: () => [...record],
    close: async () => {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
