// What every simulated region holds before anyone touches it: the default VPC and subnets, the public
// AMIs a new user would resolve through the public SSM parameters, and a key pair. Ids are fixed so
// that tests and golden files can name them.

export const DEFAULT_VPC_CIDR = '172.31.0.0/16';
export const DEFAULT_SUBNET_CIDRS = ['172.31.0.0/20', '172.31.16.0/20', '172.31.32.0/20'];
/** Default subnets live in the zones REGION + a/b/c. */
export const DEFAULT_ZONE_SUFFIXES = ['a', 'b', 'c'];
export const DEFAULT_KEY_PAIR_NAME = 'sandbox';

export const AMAZON_OWNER_ID = '137112412989';
export const CANONICAL_OWNER_ID = '099720109477';

export interface DefaultImage {
  ImageId: string;
  Name: string;
  OwnerId: string;
  Architecture: 'x86_64' | 'arm64';
  Description: string;
  /** The public SSM parameter that resolves to this image. */
  ssmParameter: string;
  creationDate: string;
}

export const DEFAULT_IMAGES: readonly DefaultImage[] = [
  {
    ImageId: 'ami-0a3c5e7f9b1d2f401',
    Name: 'al2023-ami-2023.6.20250101.0-kernel-6.1-x86_64',
    OwnerId: AMAZON_OWNER_ID,
    Architecture: 'x86_64',
    Description: 'Amazon Linux 2023 AMI 2023.6.20250101.0 x86_64 HVM kernel-6.1',
    ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    creationDate: '2025-01-01T08:00:00.000Z',
  },
  {
    ImageId: 'ami-0a3c5e7f9b1d2f402',
    Name: 'al2023-ami-2023.6.20250101.0-kernel-6.1-arm64',
    OwnerId: AMAZON_OWNER_ID,
    Architecture: 'arm64',
    Description: 'Amazon Linux 2023 AMI 2023.6.20250101.0 arm64 HVM kernel-6.1',
    ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
    creationDate: '2025-01-01T08:00:00.000Z',
  },
  {
    ImageId: 'ami-0b4d6f8a0c2e3a501',
    Name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250101',
    OwnerId: CANONICAL_OWNER_ID,
    Architecture: 'x86_64',
    Description: 'Canonical, Ubuntu, 24.04, amd64 noble image',
    ssmParameter: '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id',
    creationDate: '2025-01-01T10:00:00.000Z',
  },
  {
    ImageId: 'ami-0b4d6f8a0c2e3a502',
    Name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20250101',
    OwnerId: CANONICAL_OWNER_ID,
    Architecture: 'arm64',
    Description: 'Canonical, Ubuntu, 24.04, arm64 noble image',
    ssmParameter: '/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id',
    creationDate: '2025-01-01T10:00:00.000Z',
  },
];

/** Time the public parameters were last modified (they exist before the account does). */
export const PUBLIC_PARAMETER_MODIFIED = Date.UTC(2025, 0, 2, 0, 0, 0);
