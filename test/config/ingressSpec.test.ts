// The specs of the shared ingress pieces built from flags and files (src/config/ingress.ts): endpoints,
// ALBs and certificates, with the AWS limits checked before any call, and the names derived from them.
import {
  buildAlbSpec,
  buildCertificateSpec,
  buildEndpointSpec,
  endpointHost,
  parseIngressSpecFile,
  parseValidationZones,
  parseWeights,
  serviceTargetGroupName,
  validateDomainName,
  validateWeights,
} from '../../src/config/ingress';
import type { FieldNames } from '../../src/config/specFile';
import { userError } from '../helpers/userError';

const fileFields: FieldNames = (key, item) => `e.yaml ${key}${item === undefined ? '' : `[${item}]`}`;
const endpoint = { service: 'blog', zone: 'example.com', alb: 'shared', clusters: ['alpha'] };

describe('derived names', () => {
  it('endpointHost: SERVICE.ZONE in lower case, without the trailing dot', () => {
    expect(endpointHost('Blog', 'Example.com.')).toBe('blog.example.com');
    expect(endpointHost('blog', 'example.com')).toBe('blog.example.com');
  });

  it('serviceTargetGroupName: k3s-svc-SERVICE, or shortened with a hash to 32 characters', () => {
    expect(serviceTargetGroupName('blog')).toBe('k3s-svc-blog');
    const fits = 'a'.repeat(24);
    expect(serviceTargetGroupName(fits)).toBe(`k3s-svc-${fits}`);
    const long = serviceTargetGroupName('a'.repeat(25));
    expect(long).toMatch(/^k3s-svc-a{17}-[0-9a-f]{6}$/);
    expect(long).toHaveLength(32);
    // The hash tells apart services that share their first 17 characters.
    expect(serviceTargetGroupName('a'.repeat(26))).not.toBe(long);
    // No '--' where the cut falls after a '-'.
    expect(serviceTargetGroupName(`${'a'.repeat(15)}--${'b'.repeat(20)}`)).toMatch(/^k3s-svc-a{15}-[0-9a-f]{6}$/);
    // Hyphens inside the kept part stay.
    expect(serviceTargetGroupName(`web-${'a'.repeat(25)}`)).toMatch(/^k3s-svc-web-a{13}-[0-9a-f]{6}$/);
  });
});

describe('weights', () => {
  it('parses CLUSTER=WEIGHT items', () => {
    expect(parseWeights([])).toEqual({});
    expect(parseWeights(['alpha=3', ' bravo=0 ', 'charlie=999'])).toEqual({ alpha: 3, bravo: 0, charlie: 999 });
  });

  it.each([
    ['alpha', "--weight 'alpha' is not CLUSTER=WEIGHT"],
    ['alpha=', "--weight 'alpha=' is not CLUSTER=WEIGHT"],
    ['=3', "--weight '=3' is not CLUSTER=WEIGHT"],
    ['alpha=1.5', "--weight 'alpha=1.5' is not CLUSTER=WEIGHT"],
    ['al pha=1', "--weight 'al pha=1' is not CLUSTER=WEIGHT"],
    ['alpha=3x', "--weight 'alpha=3x' is not CLUSTER=WEIGHT"],
    ['Alpha=1', "--weight 'Alpha' is not a valid cluster name"],
    ['alpha=1000', '--weight alpha=1000: weight 1000 of alpha is out of range: weights are 0-999'],
    ['alpha=-1', '--weight alpha=-1: weight -1 of alpha is out of range: weights are 0-999'],
  ])('refuses %j', (item, message) => {
    const e = userError(() => parseWeights([item]));
    expect(e.message).toContain(message);
    expect(e.field).toBe('--weight');
  });

  it('refuses a cluster weighted twice, naming the field given', () => {
    const e = userError(() => parseWeights(['alpha=1', 'alpha=2'], 'K3SCTL_WEIGHT'));
    expect(e.message).toBe('K3SCTL_WEIGHT: cluster alpha is weighted twice');
    expect(e.field).toBe('K3SCTL_WEIGHT');
    expect(userError(() => parseWeights(['x'])).suggestion).toBe('e.g. alpha=3');
  });

  it('validateWeights: 0-999 whole numbers, at most 5 clusters, one above 0', () => {
    expect(() => validateWeights({})).not.toThrow();
    expect(() => validateWeights({ a: 0, b: 999, c: 1, d: 1, e: 1 })).not.toThrow();
    const six = userError(() => validateWeights({ a: 1, b: 1, c: 1, d: 1, e: 1, f: 1 }, '--weight'));
    expect(six.message).toBe('--weight: 6 clusters in one weighted forward; an ALB rule forwards to at most 5 target groups');
    expect(six.suggestion).toBe('use --mode nodeport (one service target group for all clusters), or fewer clusters');
    for (const w of [-1, 1000, 1.5])
      expect(userError(() => validateWeights({ a: 1, b: w }, 'weights')).message).toBe(`weights: weight ${w} of b is out of range: weights are 0-999`);
    const zero = userError(() => validateWeights({ a: 0, b: 0 }));
    expect(zero.message).toBe('--weight: every weight is 0: at least one cluster must receive traffic');
    expect(zero.field).toBe('--weight');
  });
});

describe('endpoint specs', () => {
  it('defaults: ingress mode, weight 1 each, DNS on, duplicates dropped', () => {
    expect(buildEndpointSpec({ ...endpoint, clusters: ['alpha', 'bravo', 'alpha'] })).toStrictEqual({
      service: 'blog',
      zone: 'example.com',
      alb: 'shared',
      clusters: ['alpha', 'bravo'],
      weights: { alpha: 1, bravo: 1 },
      mode: 'ingress',
      port: undefined,
      healthPath: undefined,
      stickinessSeconds: undefined,
      sourceIps: [],
      dns: true,
    });
  });

  it('nodeport mode: the port, a health path (default /), stickiness in seconds, source CIDRs, no DNS', () => {
    const spec = buildEndpointSpec({ ...endpoint, clusters: ['alpha', 'bravo'], weights: { alpha: 0 }, mode: 'nodeport', port: 30000, stickiness: '1h', sourceIps: ['10.0.0.0/8', '2001:db8::/32', '203.0.113.0/24', '198.51.100.0/24'], dns: false });
    expect(spec).toMatchObject({ mode: 'nodeport', port: 30000, healthPath: '/', stickinessSeconds: 3600, dns: false, weights: { alpha: 0, bravo: 1 } });
    expect(spec.sourceIps).toHaveLength(4);
    expect(buildEndpointSpec({ ...endpoint, mode: 'nodeport', port: 32767, healthPath: '/healthz?x=1' }).healthPath).toBe('/healthz?x=1');
    expect(buildEndpointSpec({ ...endpoint, mode: 'nodeport', port: 30080, healthPath: `/${'a'.repeat(1023)}` }).healthPath).toHaveLength(1024);
    expect(buildEndpointSpec({ ...endpoint, stickiness: '1s' }).stickinessSeconds).toBe(1);
    expect(buildEndpointSpec({ ...endpoint, stickiness: '7d' }).stickinessSeconds).toBe(604800);
    expect(buildEndpointSpec({ ...endpoint, stickiness: '1500ms' }).stickinessSeconds).toBe(2);
    // Every weight 0 is fine in nodeport mode: the weights do not route there.
    expect(buildEndpointSpec({ ...endpoint, weights: { alpha: 0 }, mode: 'nodeport', port: 30080 }).weights).toEqual({ alpha: 0 });
  });

  it.each([
    [{ service: 'Blog' }, 'SERVICE', "SERVICE 'Blog' is not a valid service name"],
    [{ zone: undefined }, '--zone', 'missing --zone'],
    [{ zone: '*.example.com' }, '--zone', "--zone '*.example.com' is neither a hosted zone id"],
    [{ alb: undefined }, '--alb', 'missing --alb'],
    [{ alb: 'internal-x' }, '--alb', "--alb 'internal-x' is not an ALB name or ARN"],
    [{ clusters: [] }, '--cluster', 'no --cluster given'],
    [{ clusters: undefined }, '--cluster', 'no --cluster given'],
    [{ clusters: ['alpha', 'Bravo'] }, '--cluster', "--cluster 'Bravo' is not a valid cluster name"],
    [{ mode: 'sidecar' }, '--mode', "--mode 'sidecar' is not ingress or nodeport"],
    [{ weights: { bravo: 2 } }, '--weight', '--weight names cluster bravo, which is not behind the endpoint'],
    [{ weights: { alpha: 0 } }, '--weight', '--weight: every weight is 0'],
    [{ mode: 'nodeport' }, '--port', '--mode nodeport needs --port (the NodePort of the service)'],
    [{ mode: 'nodeport', port: 29999 }, '--port', '--port 29999 is outside the NodePort range 30000-32767'],
    [{ mode: 'nodeport', port: 32768 }, '--port', '--port 32768 is outside the NodePort range 30000-32767'],
    [{ mode: 'nodeport', port: 30000.5 }, '--port', '--port 30000.5 is outside the NodePort range'],
    [{ mode: 'nodeport', port: 30080, healthPath: 'healthz' }, '--health-path', "--health-path 'healthz' must be a path starting with '/' (at most 1024 printable characters)"],
    [{ mode: 'nodeport', port: 30080, healthPath: '/a b' }, '--health-path', "--health-path '/a b' must be a path"],
    [{ mode: 'nodeport', port: 30080, healthPath: 'a/b' }, '--health-path', "--health-path 'a/b' must be a path"],
    [{ mode: 'nodeport', port: 30080, healthPath: `/${'a'.repeat(1024)}` }, '--health-path', 'must be a path'],
    [{ mode: 'nodeport', port: 30080, healthPath: '/x\n' }, '--health-path', 'must be a path'],
    [{ port: 30080 }, '--port', '--port applies to --mode nodeport only'],
    [{ healthPath: '/' }, '--health-path', '--health-path applies to --mode nodeport only'],
    [{ stickiness: 'soon' }, '--stickiness', "--stickiness 'soon' is not a duration"],
    [{ stickiness: '0s' }, '--stickiness', '--stickiness 0s is out of range (1s to 7d)'],
    [{ stickiness: '400ms' }, '--stickiness', '--stickiness 400ms is out of range (1s to 7d)'],
    [{ stickiness: '7d1s' }, '--stickiness', '--stickiness 7d1s is out of range (1s to 7d)'],
    [{ sourceIps: ['10.0.0.1/8'] }, '--source-ip', '--source-ip 10.0.0.1/8 has host bits set'],
    [{ sourceIps: ['10.0.0.0/8', '10.1.0.0/16', '10.2.0.0/16', '10.3.0.0/16', '10.4.0.0/16'] }, '--source-ip', '--source-ip: 5 values; an ALB rule condition takes at most 4 besides the host'],
  ] as [Partial<Parameters<typeof buildEndpointSpec>[0]>, string, string][])('%j is refused naming %s', (input, field, message) => {
    const e = userError(() => buildEndpointSpec({ ...endpoint, ...input } as Parameters<typeof buildEndpointSpec>[0]));
    expect(e.field).toBe(field);
    expect(e.message).toContain(message);
  });

  it('suggestions say what to give', () => {
    expect(userError(() => buildEndpointSpec({ ...endpoint, zone: undefined })).suggestion).toBe('give the hosted zone that holds SERVICE.ZONE');
    expect(userError(() => buildEndpointSpec({ ...endpoint, alb: undefined })).suggestion).toBe('give the shared ALB by name or ARN');
    expect(userError(() => buildEndpointSpec({ ...endpoint, clusters: [] })).suggestion).toBe('name at least one cluster behind the endpoint');
    expect(userError(() => buildEndpointSpec({ ...endpoint, weights: { bravo: 1 } })).suggestion).toBe('add --cluster bravo');
  });

  it('names file fields and list items; an ALB ARN of another region is refused', () => {
    expect(userError(() => buildEndpointSpec({ ...endpoint, clusters: ['alpha', 'X'] }, fileFields)).field).toBe('e.yaml clusters[1]');
    expect(userError(() => buildEndpointSpec({ ...endpoint, weights: { bravo: 1 } }, fileFields)).field).toBe('e.yaml weights[bravo]');
    expect(userError(() => buildEndpointSpec({ ...endpoint, sourceIps: ['10.0.0.0/8', 'x'] }, fileFields)).field).toBe('e.yaml sourceIps[1]');
    expect(userError(() => buildEndpointSpec({ ...endpoint, weights: { alpha: 0 } }, fileFields)).field).toBe('e.yaml weights');
    expect(userError(() => buildEndpointSpec({ ...endpoint, mode: 'nodeport' }, fileFields)).message).toBe('e.yaml mode nodeport needs --port (the NodePort of the service)');
    const arn = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shared/0123456789abcdef';
    expect(userError(() => buildEndpointSpec({ ...endpoint, alb: arn }, {}, 'us-east-1')).message).toBe(`--alb ${arn} is in eu-west-1, but this run is in us-east-1`);
    expect(buildEndpointSpec({ ...endpoint, alb: arn }, {}, 'eu-west-1').alb).toBe(arn);
  });
});

describe('ALB specs', () => {
  it('defaults: internet-facing, open to every address on 80/443', () => {
    expect(buildAlbSpec({ name: 'shared' })).toStrictEqual({ name: 'shared', internal: false, ingressCidrs: ['0.0.0.0/0', '::/0'] });
    expect(buildAlbSpec({ name: 'a' }).name).toBe('a');
    expect(buildAlbSpec({ name: 'shared', ingressCidrs: [] }).ingressCidrs).toEqual(['0.0.0.0/0', '::/0']);
    expect(buildAlbSpec({ name: 'a'.repeat(32), internal: true, ingressCidrs: ['10.0.0.0/8'], vpcId: 'vpc-0123abcd', subnetIds: ['subnet-0123abcd'], subnetFilters: {} })).toMatchObject({ internal: true, ingressCidrs: ['10.0.0.0/8'] });
    expect(buildAlbSpec({ name: 'shared', certificateDomain: '*.example.com', subnetIds: [], subnetFilters: { 'tag:tier': ['public'] } }).certificateDomain).toBe('*.example.com');
  });

  it.each([
    [{ name: '-shared' }, 'NAME', "NAME '-shared' is not a valid ALB name: at most 32 letters, digits and '-', not starting or ending with '-' nor starting with internal-"],
    [{ name: 'shared-' }, 'NAME', 'is not a valid ALB name'],
    [{ name: 'sh_ared' }, 'NAME', 'is not a valid ALB name'],
    [{ name: 'a'.repeat(33) }, 'NAME', 'is not a valid ALB name'],
    [{ name: 'internal-shared' }, 'NAME', 'is not a valid ALB name'],
    [{ name: 'shared', certificate: 'arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-0123-4567-89ab-0123456789ab', certificateDomain: 'example.com' }, '--certificate', 'give --certificate or --certificate-domain, not both'],
    [{ name: 'shared', certificate: 'example.com' }, '--certificate', "--certificate 'example.com' is not a certificate ARN"],
    [{ name: 'shared', certificate: 'arn:aws:acm:eu-west-1:123456789012:certificate/0123abcd-0123-4567-89ab-0123456789ab' }, '--certificate', 'is in eu-west-1, but this run is in us-east-1'],
    [{ name: 'shared', ingressCidrs: ['0.0.0.0/0', '10.0.0.1/8'] }, '--ingress-cidr', '--ingress-cidr 10.0.0.1/8 has host bits set'],
    [{ name: 'shared', certificateDomain: 'localhost' }, '--certificate-domain', "--certificate-domain 'localhost' is not a domain name"],
    [{ name: 'shared', vpcId: 'vpc-0123abcd', vpc: 'main' }, '--vpc', 'give only one of --vpc-id, --vpc'],
    [{ name: 'shared', vpcId: 'vpc-x' }, '--vpc-id', "--vpc-id 'vpc-x' is not a VPC id"],
    [{ name: 'shared', subnetIds: ['subnet-0123abcd'], subnetFilters: { a: ['b'] } }, '--subnet-filter', 'give subnets by --subnet-id or by --subnet-filter, not both'],
    [{ name: 'shared', subnetIds: ['subnet-x'] }, '--subnet-id', "--subnet-id 'subnet-x' is not a subnet id"],
    [{ name: 'shared', subnetFilters: { 'a b': ['x'] } }, '--subnet-filter', "--subnet-filter 'a b=x' is not an EC2 filter NAME=VALUE"],
    [{ name: 'shared', subnetFilters: { a: ['x', ''] } }, '--subnet-filter', "--subnet-filter 'a=x,' is not an EC2 filter NAME=VALUE"],
  ] as [Parameters<typeof buildAlbSpec>[0], string, string][])('%j is refused naming %s', (input, field, message) => {
    const e = userError(() => buildAlbSpec(input, {}, 'us-east-1'));
    expect(e.field).toBe(field);
    expect(e.message).toContain(message);
  });

  it('names list items of the file', () => {
    expect(userError(() => buildAlbSpec({ name: 'shared', ingressCidrs: ['10.0.0.0/8', 'x'] }, fileFields)).field).toBe('e.yaml ingressCidrs[1]');
    expect(userError(() => buildAlbSpec({ name: 'shared', subnetIds: ['subnet-0123abcd', 'x'] }, fileFields)).field).toBe('e.yaml subnetIds[1]');
    expect(userError(() => buildAlbSpec({ name: 'shared', subnetFilters: { 'a b': ['x'] } }, fileFields)).field).toBe('e.yaml subnetFilters[a b]');
    expect(userError(() => buildAlbSpec({ name: 'shared', subnetFilters: { 'a b': ['x'] } })).suggestion).toBe('e.g. availability-zone=us-east-1a');
  });
});

describe('certificate specs', () => {
  it('lower-cases names and drops trailing dots; validation zones by domain or SAN', () => {
    expect(buildCertificateSpec({ domain: 'Example.com.', sans: ['WWW.example.org.', '*.example.com'], zone: 'example.com', validationZones: { 'www.example.org.': 'example.org', 'EXAMPLE.COM': 'Z0123456789ABCDEFGHIJ' } })).toStrictEqual({
      domain: 'example.com',
      sans: ['www.example.org', '*.example.com'],
      zone: 'example.com',
      validationZones: { 'www.example.org': 'example.org', 'example.com': 'Z0123456789ABCDEFGHIJ' },
    });
    expect(buildCertificateSpec({ domain: 'example.com' })).toStrictEqual({ domain: 'example.com', sans: [], zone: undefined, validationZones: {} });
  });

  it.each([
    [{ domain: 'localhost' }, 'DOMAIN', "DOMAIN 'localhost' is not a domain name"],
    [{ domain: 'example.com', sans: ['ok.example.com', 'bad name'] }, '--san', "--san 'bad name' is not a domain name"],
    [{ domain: 'example.com', zone: '*.example.com' }, '--zone', "--zone '*.example.com' is neither a hosted zone id"],
    [{ domain: 'example.com', validationZones: { 'other.org': 'other.org' } }, '--validation-zone', '--validation-zone names other.org, which is not a name of the certificate (example.com)'],
    [{ domain: 'example.com', sans: ['www.example.com'], validationZones: { 'www.example.com': 'bad zone' } }, '--validation-zone', "--validation-zone 'bad zone' is neither a hosted zone id"],
  ] as [Parameters<typeof buildCertificateSpec>[0], string, string][])('%j is refused naming %s', (input, field, message) => {
    const e = userError(() => buildCertificateSpec(input));
    expect(e.field).toBe(field);
    expect(e.message).toContain(message);
  });

  it('names the file fields, and lists every name of the certificate', () => {
    expect(userError(() => buildCertificateSpec({ domain: 'example.com', sans: ['a.example.com', 'x'] }, fileFields)).field).toBe('e.yaml sans[1]');
    const e = userError(() => buildCertificateSpec({ domain: 'example.com', sans: ['a.example.com'], validationZones: { 'b.example.com': 'example.com' } }, fileFields));
    expect(e.field).toBe('e.yaml validationZones[b.example.com]');
    expect(e.message).toBe('e.yaml validationZones[b.example.com] names b.example.com, which is not a name of the certificate (example.com, a.example.com)');
    expect(e.suggestion).toBe('give DOMAIN=ZONE for the domain or one of its --san names');
    expect(() => validateDomainName('example.com', 'd')).not.toThrow();
    expect(userError(() => validateDomainName('x', 'd')).suggestion).toBe('e.g. example.com or *.us-east-1.example.com');
  });

  it('parses DOMAIN=ZONE pairs', () => {
    expect(parseValidationZones([])).toEqual({});
    expect(userError(() => parseValidationZones(['x'])).field).toBe('--validation-zone');
    expect(parseValidationZones(['www.example.org=example.org', ' a.example.com=Z0123 '])).toEqual({ 'www.example.org': 'example.org', 'a.example.com': 'Z0123' });
    for (const bad of ['example.org', '=example.org', 'a.example.org=', 'a b=c', 'a=b c']) {
      const e = userError(() => parseValidationZones([bad], '-z'));
      expect(e.message).toBe(`-z '${bad}' is not DOMAIN=ZONE`);
      expect(e.suggestion).toBe('e.g. --validation-zone www.example.org=example.org');
      expect(e.field).toBe('-z');
    }
  });
});

describe('ingress files', () => {
  it('keep the line of every field, cite their own schema and take the flag to name', () => {
    const file = parseIngressSpecFile('endpoint', 'service: blog\nclusters:\n  - alpha\n', 'e.yaml');
    expect(file.at(['clusters', 0])).toBe('e.yaml:3 clusters[0]');
    const e = userError(() => parseIngressSpecFile('alb', 'name: [x\n', 'a.yaml', '-f'));
    expect(e.field).toBe('-f');
    expect(e.suggestion).toBe('see schema/alb.schema.json');
    expect(userError(() => parseIngressSpecFile('certificate', 'sans: 3\n', 'c.yaml')).suggestion).toBe('see schema/certificate.schema.json');
  });
});
