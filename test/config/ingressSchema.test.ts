// The published JSON Schemas of the shared-ingress files (schema/alb.schema.json,
// schema/certificate.schema.json, schema/endpoint.schema.json) are generated from the zod schemas of
// src/config/ingress.ts; this test fails when they drift. Regenerate with K3SCTL_UPDATE_SCHEMA=1.
// It also parses a sample file of each kind, and bad files, through the same parser the commands use.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { UserError } from '../../src/core/errors';
import { INGRESS_FILES, parseIngressFile, type IngressFileKind } from '../../src/config/ingress';

const KINDS = Object.keys(INGRESS_FILES) as IngressFileKind[];

function generated(kind: IngressFileKind): string {
  const file = path.basename(INGRESS_FILES[kind].schemaFile);
  return `${JSON.stringify({ ...z.toJSONSchema(INGRESS_FILES[kind].schema), $id: `https://k3sctl.io/schema/${file}` }, null, 2)}\n`;
}

const SAMPLES: Record<IngressFileKind, { yaml: string; expected: object }> = {
  alb: {
    yaml: [
      '# k3sctl alb create -f alb.yaml',
      'name: shared',
      'region: us-east-1',
      'internal: false',
      'certificateDomain: example.com',
      'ingressCidrs: [203.0.113.0/24, "::/0"]',
      'vpc: main',
      'subnetFilters:',
      '  availability-zone: [us-east-1a, us-east-1b]',
      '  tag:tier: public',
    ].join('\n'),
    expected: {
      name: 'shared',
      region: 'us-east-1',
      internal: false,
      certificateDomain: 'example.com',
      ingressCidrs: ['203.0.113.0/24', '::/0'],
      vpc: 'main',
      subnetFilters: { 'availability-zone': ['us-east-1a', 'us-east-1b'], 'tag:tier': 'public' },
    },
  },
  certificate: {
    yaml: [
      'domain: example.com',
      'sans:',
      '  - "*.example.com"',
      '  - www.example.org',
      'zone: example.com',
      'validationZones:',
      '  www.example.org: example.org',
    ].join('\n'),
    expected: {
      domain: 'example.com',
      sans: ['*.example.com', 'www.example.org'],
      zone: 'example.com',
      validationZones: { 'www.example.org': 'example.org' },
    },
  },
  endpoint: {
    yaml: [
      'service: blog',
      'zone: example.com',
      'alb: shared',
      'clusters: [alpha, bravo]',
      'weights: { alpha: 3, bravo: 1 }',
      'mode: ingress',
      'stickiness: 1h',
      'sourceIps: [203.0.113.0/24]',
      'dns: true',
    ].join('\n'),
    expected: {
      service: 'blog',
      zone: 'example.com',
      alb: 'shared',
      clusters: ['alpha', 'bravo'],
      weights: { alpha: 3, bravo: 1 },
      mode: 'ingress',
      stickiness: '1h',
      sourceIps: ['203.0.113.0/24'],
      dns: true,
    },
  },
};

function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected a UserError');
}

describe('published JSON schemas of the ingress files', () => {
  it.each(KINDS)('schema/%s.schema.json matches the zod schema', (kind) => {
    const target = path.resolve(__dirname, '../..', INGRESS_FILES[kind].schemaFile);
    const text = generated(kind);
    if (process.env.K3SCTL_UPDATE_SCHEMA === '1') fs.writeFileSync(target, text);
    expect(fs.existsSync(target)).toBe(true);
    expect(fs.readFileSync(target, 'utf8')).toBe(text);
  });

  it.each(KINDS)('schema/%s.schema.json refuses unknown fields and lists every field of the file', (kind) => {
    const json = JSON.parse(
      fs.readFileSync(path.resolve(__dirname, '../..', INGRESS_FILES[kind].schemaFile), 'utf8'),
    );
    expect(json.additionalProperties).toBe(false);
    expect(json.$id).toBe(`https://k3sctl.io/schema/${kind}.schema.json`);
    expect(Object.keys(json.properties).sort()).toEqual(Object.keys(INGRESS_FILES[kind].schema.shape).sort());
    expect(json.required ?? []).toEqual([]);
  });

  it('the endpoint schema carries the AWS limits (weights 0-999, NodePort range)', () => {
    const json = JSON.parse(
      fs.readFileSync(path.resolve(__dirname, '../../schema/endpoint.schema.json'), 'utf8'),
    );
    expect(json.properties.weights.additionalProperties).toMatchObject({
      type: 'integer',
      minimum: 0,
      maximum: 999,
    });
    expect(json.properties.port).toMatchObject({ type: 'integer', minimum: 30000, maximum: 32767 });
    expect(json.properties.mode.enum).toEqual(['ingress', 'nodeport']);
  });
});

describe('parseIngressFile', () => {
  it.each(KINDS)('a sample %s file parses through the zod schema', (kind) => {
    const { yaml, expected } = SAMPLES[kind];
    expect(parseIngressFile(kind, yaml, `${kind}.yaml`)).toEqual(expected);
    expect(INGRESS_FILES[kind].schema.safeParse(expected).success).toBe(true);
  });

  it.each(KINDS)('an empty %s file is an empty spec (every field may come from flags)', (kind) => {
    expect(parseIngressFile(kind, '', `${kind}.yaml`)).toEqual({});
    expect(parseIngressFile(kind, '# nothing\n', `${kind}.yaml`)).toEqual({});
  });

  it.each(KINDS)('%s file: an unknown field is a UserError naming it (FILE:LINE field) and citing its own schema', (kind) => {
    const e = userError(() =>
      parseIngressFile(kind, `${SAMPLES[kind].yaml}\nlisteners: 3\n`, `${kind}.yaml`),
    );
    const line = SAMPLES[kind].yaml.split('\n').length + 1;
    expect(e.field).toBe(`${kind}.yaml:${line} listeners`);
    expect(e.message).toBe(`${kind}.yaml:${line} listeners: unknown field`);
    expect(e.suggestion).toContain(`schema/${kind}.schema.json`);
    expect(e.suggestion).not.toContain('cluster.schema.json');
  });

  it('names every unknown field, the first one as the field at fault', () => {
    const e = userError(() =>
      parseIngressFile('certificate', 'domain: example.com\nsan: [a.example.com]\nzoneId: Z1\n', 'c.yaml'),
    );
    expect(e.field).toBe('c.yaml:2 san');
    expect(e.message).toBe('c.yaml:2 san: unknown field; c.yaml:3 zoneId: unknown field');
    expect(e.suggestion).toMatch(
      /^the fields of a certificate file are domain, region, sans, zone, validationZones/,
    );
  });

  it.each([
    ['alb', 'name: shared\ninternal: "yes"\n', 'in.yaml:2 internal', /expected boolean/],
    ['alb', 'name: shared\ningressCidrs: 0.0.0.0/0\n', 'in.yaml:2 ingressCidrs', /expected array/],
    ['alb', 'subnetFilters:\n  availability-zone: 3\n', 'in.yaml:2 subnetFilters.availability-zone', /Invalid input/],
    ['certificate', 'domain: example.com\nsans: [1.5]\n', 'in.yaml:2 sans[0]', /expected string/],
    ['certificate', 'validationZones: [example.com]\n', 'in.yaml:1 validationZones', /expected record/],
    ['endpoint', 'service: blog\nport: "30080"\n', 'in.yaml:2 port', /expected number/],
    ['endpoint', 'service: blog\nport: 8080\n', 'in.yaml:2 port', />=30000/],
    ['endpoint', 'weights: { alpha: 1000 }\n', 'in.yaml:1 weights.alpha', /<=999/],
    ['endpoint', 'weights: { alpha: 1.5 }\n', 'in.yaml:1 weights.alpha', /expected int/],
    ['endpoint', 'mode: sidecar\n', 'in.yaml:1 mode', /"ingress"\|"nodeport"/],
    ['endpoint', 'dns: no-thanks\n', 'in.yaml:1 dns', /expected boolean/],
  ] as const)('%s file %j: a UserError naming %s (FILE:LINE field)', (kind, yaml, field, detail) => {
    const e = userError(() => parseIngressFile(kind, yaml, 'in.yaml'));
    expect(e.field).toBe(field);
    expect(e.message).toContain(`${field}: `);
    expect(e.message).toMatch(detail);
    expect(e.suggestion).toBe(`see schema/${kind}.schema.json`);
  });

  it('YAML syntax errors and non-mappings are UserErrors about --file citing the schema', () => {
    const bad = userError(() => parseIngressFile('endpoint', 'service: [blog\n', 'e.yaml'));
    expect(bad.field).toBe('--file');
    expect(bad.message).toMatch(/^--file e\.yaml:2 is not valid YAML/);
    expect(bad.suggestion).toBe('see schema/endpoint.schema.json');
    const list = userError(() => parseIngressFile('alb', '- shared\n', 'a.yaml'));
    expect(list.field).toBe('--file');
    expect(list.suggestion).toBe('see schema/alb.schema.json');
  });

  it('a JSON file is accepted too (YAML is a superset)', () => {
    expect(
      parseIngressFile('endpoint', '{"service":"api","mode":"nodeport","port":30080}', 'e.json'),
    ).toEqual({
      service: 'api',
      mode: 'nodeport',
      port: 30080,
    });
  });
});
