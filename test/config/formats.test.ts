// The formats of typed values checked before any AWS call (src/config/formats.ts): each bad value is a
// UserError naming the field, each good one comes back unchanged.
import { arnRegion } from '../../src/aws/arns';
import {
  canonicalCidr,
  isDomainName,
  isRegion,
  validateAlbRef,
  validateAmiOwner,
  validateCertificateArn,
  validateCertificateRef,
  validateCidr,
  validateEc2Id,
  validateEndpointUrl,
  validateHostedZoneRef,
  validateInstanceType,
  validateRegion,
} from '../../src/config/formats';
import { userError } from '../helpers/userError';

const ACM = 'arn:aws:acm:us-east-1:123456789012:certificate/0123abcd-0123-4567-89ab-0123456789ab';
const ALB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shared/0123456789abcdef';

describe('CIDR blocks', () => {
  it.each(['10.0.0.0/8', '203.0.113.7/32', '0.0.0.0/0', '2001:db8::/32', '2001:db8::1/128', '::/0', '2001:db8:0:1::/64'])('accepts %s', (cidr) => {
    expect(validateCidr(cidr, '--ssh-cidr')).toBe(cidr);
  });

  it.each([
    ['10.0.0.0/33', 'prefix beyond 32'],
    ['2001:db8::/129', 'prefix beyond 128'],
    ['10.0.0.0', 'no prefix'],
    ['10.0.0.0/', 'empty prefix'],
    ['10.0.0.0/0008', 'prefix of four digits'],
    ['10.1/16', 'IPv4 in fewer than four parts'],
    ['10.0.0.256/32', 'part above 255'],
    ['2001:db8::g/64', 'not hexadecimal'],
    ['10.0.0.0/8/8', 'two prefixes'],
    ['x10.0.0.0/8', 'junk before'],
    ['10.0.0.0/8x', 'junk after'],
    ['10.0 .0.0/8', 'a space inside'],
    ['everywhere', 'a word'],
  ])('refuses %s (%s) as not a CIDR block, naming the field', (cidr) => {
    const e = userError(() => validateCidr(cidr, '--ssh-cidr'));
    expect(e.message).toBe(`--ssh-cidr '${cidr}' is not a CIDR block`);
    expect(e.suggestion).toBe('e.g. 203.0.113.0/24 or 2001:db8::/32');
    expect(e.field).toBe('--ssh-cidr');
  });

  it.each([
    ['10.0.0.5/16', '10.0.0.0/16'],
    ['203.0.113.7/24', '203.0.113.0/24'],
    ['2001:db8::1/64', '2001:db8::/64'],
  ])('refuses %s with host bits set, showing %s', (cidr, canonical) => {
    const e = userError(() => validateCidr(cidr, '--api-cidr'));
    expect(e.message).toBe(`--api-cidr ${cidr} has host bits set; did you mean ${canonical}?`);
    expect(e.suggestion).toBe(`give ${canonical}`);
    expect(e.field).toBe('--api-cidr');
  });

  it.each([
    ['2001:DB8::/32', '2001:db8::/32'],
    ['2001:0db8:0000::/48', '2001:db8::/48'],
    [' 10.0.0.0/8', '10.0.0.0/8'],
    ['10.0.0.0/8 ', '10.0.0.0/8'],
    ['10.0.0.0/08', '10.0.0.0/8'],
  ])('refuses %j, not in canonical form, showing %s', (cidr, canonical) => {
    const e = userError(() => validateCidr(cidr, 'f'));
    expect(e.message).toBe(`f ${cidr} is not in canonical form; did you mean ${canonical}?`);
    expect(e.suggestion).toBe(`give ${canonical}`);
  });

  it('canonicalCidr tells host bits from a non-canonical spelling', () => {
    expect(canonicalCidr('10.0.0.5/16')).toEqual({ canonical: '10.0.0.0/16', hostBits: true });
    expect(canonicalCidr('2001:DB8::/32')).toEqual({ canonical: '2001:db8::/32', hostBits: false });
    expect(canonicalCidr('10.0.0.0/8')).toEqual({ canonical: '10.0.0.0/8', hostBits: false });
    expect(canonicalCidr('010.0.0.1/32')).toBeUndefined();
    // The whole text is the block: nothing before it.
    expect(canonicalCidr('a/10.0.0.0/8')).toBeUndefined();
    expect(canonicalCidr('any 10.0.0.0/8')).toBeUndefined();
  });
});

describe('regions', () => {
  it.each(['us-east-1', 'eu-west-3', 'ap-southeast-2', 'us-gov-west-1', 'cn-north-1', 'us-iso-east-1', 'us-isob-east-1', 'eu-isoe-west-1', 'xx-east-12'])('%s is a region', (r) => {
    expect(isRegion(r)).toBe(true);
    expect(validateRegion(r, '--region')).toBe(r);
  });

  it.each(['us-east', 'US-EAST-1', 'us-east-1a', 'xus-east-1', 'u-east-1', 'us-east-123', 'us--1', 'us-east-', 'us-foo-east-1', 'us-isoxy-east-1', 'useast1', ' us-east-1'])('%j is not', (r) => {
    expect(isRegion(r)).toBe(false);
    const e = userError(() => validateRegion(r, 'cluster.yaml:2 region'));
    expect(e.message).toBe(`cluster.yaml:2 region '${r}' is not an AWS region`);
    expect(e.suggestion).toBe('e.g. us-east-1 or eu-west-1');
    expect(e.field).toBe('cluster.yaml:2 region');
  });
});

describe('instance types', () => {
  it.each(['t3.medium', 't3.nano', 't3.micro', 't3.small', 'm5.large', 'm5.xlarge', 'm7g.2xlarge', 'c6i.48xlarge', 'm7i-flex.large', 'u-6tb1.metal', 'mac2-m2pro.metal', 'c7i.metal-24xl', 'x2iezn.12xlarge', 'u-12tb1.112xlarge', 'u7i-12tb.224xlarge'])(
    'accepts %s',
    (t) => {
      expect(validateInstanceType(t, '--node-type')).toBe(t);
    },
  );

  it.each(['t3', 'T3.medium', 't.medium', '3t.medium', 't3.huge', 't3.medium ', 'xt3.medium.x', 't3.', '.medium', 't3-.large', 't3.metal-24', 't3.xlargex', 't3.2xlarge2', 't-x.medium', 'mac-m.metal', 'Tt3.medium', '_t3.medium'])('refuses %j', (t) => {
    const e = userError(() => validateInstanceType(t, '--node-type'));
    expect(e.message).toBe(`--node-type '${t}' is not an EC2 instance type (FAMILY.SIZE, e.g. t3.medium or m7g.2xlarge)`);
    expect(e.field).toBe('--node-type');
  });
});

describe('EC2 ids', () => {
  it.each([
    ['ami-0123abcd', 'ami'],
    ['ami-0123456789abcdef0', 'ami'],
    ['i-0123456789abcdef0', 'i'],
    ['vpc-0a1b2c3d', 'vpc'],
    ['subnet-0123456789abcdef0', 'subnet'],
  ] as const)('accepts %s', (id, prefix) => {
    expect(validateEc2Id(id, prefix, 'f')).toBe(id);
  });

  it.each([
    ['ami-0123abc', 'ami', 'an AMI'],
    ['ami-0123abcde', 'ami', 'an AMI'],
    ['ami-0123456789ABCDEF0', 'ami', 'an AMI'],
    ['i-0123abcdx', 'i', 'an instance'],
    ['vpc-0123abcd-', 'vpc', 'a VPC'],
    ['xvpc-0123abcd', 'vpc', 'a VPC'],
    ['vpc-0123abcd', 'subnet', 'a subnet'],
  ] as const)('refuses %s as %s id', (id, prefix, what) => {
    const e = userError(() => validateEc2Id(id, prefix, '--subnet-id'));
    expect(e.message).toBe(`--subnet-id '${id}' is not ${what} id (${prefix}- and 8 or 17 hexadecimal digits)`);
    expect(e.field).toBe('--subnet-id');
  });
});

describe('AMI owners', () => {
  it.each(['123456789012', 'self', 'amazon', 'aws-marketplace', 'aws-backup-vault'])('accepts %s', (o) => {
    expect(validateAmiOwner(o, '--ami-owner')).toBe(o);
  });

  it.each(['12345678901', '1234567890123', 'amazonx', 'xself', 'Amazon', 'microsoft'])('refuses %s', (o) => {
    const e = userError(() => validateAmiOwner(o, '--ami-owner'));
    expect(e.message).toBe(`--ami-owner '${o}' is not an AMI owner`);
    expect(e.suggestion).toBe('give a 12-digit account id, self, amazon or aws-marketplace');
    expect(e.field).toBe('--ami-owner');
  });
});

describe('domain names and hosted zones', () => {
  it('isDomainName: labels of letters, digits and inner hyphens; a leading wildcard; a trailing dot', () => {
    for (const d of ['example.com', 'EXAMPLE.com', 'a-b.example.com', '*.example.com', 'example.com.', 'x.io', `${'a'.repeat(63)}.com`, '1.example.com'])
      expect([d, isDomainName(d)]).toEqual([d, true]);
    for (const d of ['com', 'a.*.example.com', '-a.example.com', 'a-.example.com', 'a..com', `${'a'.repeat(64)}.com`, 'ex ample.com', 'exa_mple.com', '**.example.com', '.example.com'])
      expect([d, isDomainName(d)]).toEqual([d, false]);
    expect(isDomainName('com', 1)).toBe(true);
    expect(isDomainName('com.', 1)).toBe(true);
    const long = `${Array.from({ length: 4 }, () => 'a'.repeat(62)).join('.')}.com`;
    expect(long.length).toBe(255);
    expect(isDomainName(long)).toBe(false);
    expect(isDomainName(long.slice(2))).toBe(true);
  });

  it.each(['Z0123456789ABCDEFGHIJ', 'Z1D633PJN98FT9', '/hostedzone/Z1D633PJN98FT9', 'example.com', 'example.com.', 'com'])('accepts the zone %s', (z) => {
    expect(validateHostedZoneRef(z, '--zone')).toBe(z);
  });

  it.each(['/hostedzone/z123', '/hostedzone/', '/hostedzone/xZ0123', 'Z0123/hostedzone/ABCD', 'my zone Z0123456789', '*.example.com', 'ex ample.com', 'example..com', 'Z0123456789ABCDEFGHIJ0123456789ABC/x'])('refuses the zone %j', (z) => {
    const e = userError(() => validateHostedZoneRef(z, '--zone'));
    expect(e.message).toBe(`--zone '${z}' is neither a hosted zone id (Z...) nor a zone name`);
    expect(e.suggestion).toBe('e.g. example.com or Z0123456789ABCDEFGHIJ');
    expect(e.field).toBe('--zone');
  });
});

describe('ARNs', () => {
  it('arnRegion is the fourth part (empty for global services)', () => {
    expect(arnRegion(ACM)).toBe('us-east-1');
    expect(arnRegion('arn:aws:iam::123456789012:server-certificate/x')).toBe('');
    expect(arnRegion('example.com')).toBe('');
  });

  it.each([
    ACM,
    'arn:aws-cn:acm:cn-north-1:123456789012:certificate/0123abcd-0123-4567-89ab-0123456789ab',
    'arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/0123abcd-0123-4567-89ab-0123456789ab',
    'arn:aws-iso-b:acm:us-isob-east-1:123456789012:certificate/0123abcd-0123-4567-89ab-0123456789ab',
    'arn:aws-eusc:acm:eu-west-1:123456789012:certificate/0123abcd-0123-4567-89ab-0123456789ab',
    'arn:aws:iam::123456789012:server-certificate/prod/www.example.com',
  ])('a certificate ARN: %s', (arn) => {
    expect(validateCertificateArn(arn, '--certificate')).toBe(arn);
  });

  it('a certificate of the run\'s region passes; one of another region is refused, naming both', () => {
    expect(validateCertificateArn(ACM, '--certificate', 'us-east-1')).toBe(ACM);
    const e = userError(() => validateCertificateArn(ACM, '--certificate', 'eu-west-1'));
    expect(e.message).toBe(`--certificate ${ACM} is in us-east-1, but this run is in eu-west-1`);
    expect(e.suggestion).toBe('give --region us-east-1, or a resource of eu-west-1');
    expect(e.field).toBe('--certificate');
    // IAM server certificates are global.
    expect(validateCertificateArn('arn:aws:iam::123456789012:server-certificate/x', 'c', 'eu-west-1')).toBe('arn:aws:iam::123456789012:server-certificate/x');
  });

  it.each([
    ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/0123456789abcdef', ' (it names a target group)'],
    ['arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/nlb/0123456789abcdef', ' (it names a network load balancer)'],
    ['arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/gwy/gw/0123456789abcdef', ' (it names a gateway load balancer)'],
    ['arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shared/0123456789abcdef/0123456789abcdef', ' (it names a listener)'],
    [ALB, ' (it names a elasticloadbalancing resource)'],
    ['arn:aws:s3:::bucket', ' (it names a s3 resource)'],
    ['arn:aws:s3:::listener/x', ' (it names a s3 resource)'],
    ['urn:isbn:0451450523', ''],
    ['arn:aws:acm:us-east-1:123456789012:certificate/not-a-uuid', ''],
    ['arn:aws:acm:us-east-1:1234:certificate/0123abcd-0123-4567-89ab-0123456789ab', ''],
    ['arn:', ''],
    ['example.com', ''],
    [`x${ACM}`, ''],
    [`${ACM}x`, ''],
  ])('%s is not a certificate ARN%s', (arn, kind) => {
    const e = userError(() => validateCertificateArn(arn, '--certificate'));
    expect(e.message).toBe(`--certificate '${arn}' is not a certificate ARN${kind}`);
    expect(e.suggestion).toBe('an ACM certificate ARN is arn:aws:acm:REGION:ACCOUNT:certificate/UUID; use --certificate-domain to find one by its domain');
    expect(e.field).toBe('--certificate');
  });

  it('an IAM server certificate ARN must name a certificate path of allowed characters', () => {
    expect(userError(() => validateCertificateArn('arn:aws:iam::123456789012:server-certificate/', 'c')).field).toBe('c');
    expect(userError(() => validateCertificateArn('arn:aws:iam::123456789012:server-certificate/a b', 'c')).field).toBe('c');
    expect(userError(() => validateCertificateArn('arn:aws:iam::12345678901:server-certificate/x', 'c')).field).toBe('c');
    expect(userError(() => validateCertificateArn('arn:aws:iam::123456789012:server-certificate/x!', 'c')).field).toBe('c');
    expect(userError(() => validateCertificateArn(' arn:aws:iam::123456789012:server-certificate/x', 'c')).field).toBe('c');
  });
});

describe('application load balancers', () => {
  it.each(['shared', 'a', 'A-1', 'a'.repeat(32), ALB])('accepts %s', (v) => {
    expect(validateAlbRef(v, '--alb', 'us-east-1')).toBe(v);
  });

  it.each(['-shared', 'shared-', 'a'.repeat(33), 'internal-shared', 'sha red', 'shared_1', ''])('refuses the name %j', (v) => {
    const e = userError(() => validateAlbRef(v, '--alb'));
    expect(e.message).toBe(`--alb '${v}' is not an ALB name or ARN`);
    expect(e.suggestion).toBe("a name is at most 32 letters, digits and '-', not starting or ending with '-' nor starting with internal-");
    expect(e.field).toBe('--alb');
  });

  it.each([
    ['arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/nlb/0123456789abcdef', ' (it names a network load balancer)'],
    ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/0123456789abcdef', ' (it names a target group)'],
    ['arn:aws:acm:us-east-1:123456789012:certificate/x', ' (it names an ACM certificate)'],
    ['arn:aws:ec2:us-east-1:123456789012:targetgroup/x', ' (it names a ec2 resource)'],
    ['arn:aws:elasticloadbalancing:us-east-1:123456789012', ' (it names a elasticloadbalancing resource)'],
    ['arn:', ''],
    ['arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shared/0123456789abcdefg', ' (it names a elasticloadbalancing resource)'],
    ['arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app//0123456789abcdef', ' (it names a elasticloadbalancing resource)'],
  ])('refuses the ARN %s%s', (v, kind) => {
    const e = userError(() => validateAlbRef(v, '--ingress-alb'));
    expect(e.message).toBe(`--ingress-alb '${v}' is not an application load balancer ARN${kind}`);
    expect(e.suggestion).toBe('give the ALB name, or an ARN arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID');
    expect(e.field).toBe('--ingress-alb');
  });

  it('an ALB ARN of another region is refused naming both regions; no region given checks none', () => {
    const e = userError(() => validateAlbRef(ALB, '--alb', 'eu-west-1'));
    expect(e.message).toBe(`--alb ${ALB} is in us-east-1, but this run is in eu-west-1`);
    expect(validateAlbRef(ALB, '--alb')).toBe(ALB);
  });
});

describe('certificate references', () => {
  it('an ACM ARN (of the run\'s region), an IAM server certificate ARN, or a domain name', () => {
    expect(validateCertificateRef(ACM, '--certificate', 'us-east-1')).toBe(ACM);
    expect(userError(() => validateCertificateRef(ACM, '--certificate', 'us-west-2')).message).toBe(`--certificate ${ACM} is in us-east-1, but this run is in us-west-2`);
    expect(validateCertificateRef('arn:aws:iam::123456789012:server-certificate/x', 'c', 'us-west-2')).toBe('arn:aws:iam::123456789012:server-certificate/x');
    expect(userError(() => validateCertificateRef('arn:aws:s3:::bucket', 'c')).message).toBe("c 'arn:aws:s3:::bucket' is not a certificate ARN (it names a s3 resource)");
    expect(validateCertificateRef('*.example.com', 'c')).toBe('*.example.com');
    const e = userError(() => validateCertificateRef('localhost', '--certificate-domain'));
    expect(e.message).toBe("--certificate-domain 'localhost' is neither an ACM certificate ARN nor a domain name");
    expect(e.suggestion).toBe('e.g. example.com');
    expect(e.field).toBe('--certificate-domain');
  });
});

describe('endpoint URLs', () => {
  it.each(['http://localhost:4566', 'https://sts.us-east-1.amazonaws.com', 'http://127.0.0.1:5000/'])('accepts %s', (u) => {
    expect(validateEndpointUrl(u, '--endpoint-url')).toBe(u);
  });

  it.each(['localhost:4566', 'ftp://example.com', 'not a url', 'http://', 'file:///tmp/x', ''])('refuses %j', (u) => {
    const e = userError(() => validateEndpointUrl(u, '--endpoint-url'));
    expect(e.message).toBe(`--endpoint-url '${u}' is not an http(s) URL`);
    expect(e.suggestion).toBe('e.g. http://localhost:4566');
    expect(e.field).toBe('--endpoint-url');
  });
});
