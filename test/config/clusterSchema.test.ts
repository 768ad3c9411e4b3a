// The published JSON Schema of the cluster file (schema/cluster.schema.json) is generated from the zod
// schema; this test fails when they drift. Regenerate with K3SCTL_UPDATE_SCHEMA=1.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { ClusterFileSchema, GroupFileSchema } from '../../src/config/cluster';

const FILES: [string, z.ZodType][] = [
  ['cluster.schema.json', ClusterFileSchema],
  ['group.schema.json', GroupFileSchema],
];

describe('published JSON schemas', () => {
  it.each(FILES)('%s matches the zod schema', (file, schema) => {
    const generated = `${JSON.stringify({ ...z.toJSONSchema(schema), $id: `https://k3sctl.io/schema/${file}` }, null, 2)}\n`;
    const target = path.resolve(__dirname, '../../schema', file);
    if (process.env.K3SCTL_UPDATE_SCHEMA === '1') fs.writeFileSync(target, generated);
    expect(fs.readFileSync(target, 'utf8')).toBe(generated);
  });

  it('refuses unknown fields (additionalProperties false)', () => {
    const json = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../schema/cluster.schema.json'), 'utf8'));
    expect(json.additionalProperties).toBe(false);
    expect(Object.keys(json.properties)).toEqual(expect.arrayContaining(['vpcId', 'subnetFilters', 'controlPlanes', 'nodes', 'ingress', 'sshCidrs']));
  });
});
