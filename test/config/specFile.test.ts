// The `-f FILE` of the create commands (src/config/specFile.ts): reading it, parsing it against a
// strict schema with the line of every field, merging the flags over it, and naming each field as the
// user gave it (the flag as typed, or FILE:LINE field), also in errors raised later by lookups.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { UserError } from '../../src/core/errors';
import { flagNames, mergeSpecInput, parseSpecFile, readSpecText, showPath } from '../../src/config/specFile';
import { userError } from '../helpers/userError';

const Schema = z.strictObject({
  name: z.string().optional(),
  nodeType: z.string().optional(),
  nodes: z.number().optional(),
  sans: z.array(z.string()).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  ingress: z.strictObject({ alb: z.string(), zone: z.string() }).optional(),
});
type Input = z.infer<typeof Schema>;
const about = { kind: 'test', schemaFile: 'schema/test.schema.json' };
const parse = (text: string, flag?: string) => parseSpecFile(Schema, text, 'c.yaml', { ...about, ...(flag ? { flag } : {}) });
const FLAGS = { name: 'NAME', nodeType: '--node-type', nodes: '--nodes', sans: '--san', labels: '--label', 'ingress.alb': '--ingress-alb', 'ingress.zone': '--ingress-zone' };

describe('naming fields', () => {
  it('flagNames: an override, else the flag, else the key itself', () => {
    const f = flagNames({ nodes: '--nodes', zone: undefined }, { nodeType: 'nodeType' });
    expect(f('nodes')).toBe('--nodes');
    expect(f('nodeType')).toBe('nodeType');
    expect(f('zone')).toBe('zone');
    expect(flagNames({ nodes: '--nodes' })('nodes', 3)).toBe('--nodes');
  });

  it('showPath: keys dotted, list indices in brackets', () => {
    expect(showPath(['sans', 0])).toBe('sans[0]');
    expect(showPath(['weights', 'alpha'])).toBe('weights.alpha');
    expect(showPath(['ingress', 'rules', 2, 'host'])).toBe('ingress.rules[2].host');
    expect(showPath([1])).toBe('[1]');
  });
});

describe('reading the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k3sctl-spec-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads a file; a directory, a missing file or an unreadable path is invalid input naming the flag', () => {
    const file = path.join(dir, 'c.yaml');
    fs.writeFileSync(file, 'nodes: 3\n');
    expect(readSpecText(file)).toBe('nodes: 3\n');
    const d = userError(() => readSpecText(dir, '-f'));
    expect(d.message).toBe(`-f ${dir} is a directory, not a YAML file`);
    expect(d.field).toBe('-f');
    const missing = userError(() => readSpecText(path.join(dir, 'none.yaml')));
    expect(missing.message).toBe(`--file ${path.join(dir, 'none.yaml')} cannot be read: no such file`);
    expect(missing.field).toBe('--file');
    const notDir = userError(() => readSpecText(path.join(file, 'x.yaml'), '--file'));
    expect(notDir.message).toBe(`--file ${path.join(file, 'x.yaml')} cannot be read: ENOTDIR`);
  });
});

describe('parsing the file', () => {
  it('returns the data, and the line of each field (its key, or its list item)', () => {
    const file = parse('# a cluster\nname: demo\nsans:\n  - a.example.com\n  - b.example.com\ningress:\n  alb: shared\n  zone: example.com\n');
    expect(file.name).toBe('c.yaml');
    expect(file.data).toEqual({ name: 'demo', sans: ['a.example.com', 'b.example.com'], ingress: { alb: 'shared', zone: 'example.com' } });
    expect(file.at(['name'])).toBe('c.yaml:2 name');
    expect(file.at(['sans', 1])).toBe('c.yaml:5 sans[1]');
    expect(file.at(['sans', 1], 'SAN')).toBe('c.yaml:5 SAN');
    expect(file.at(['ingress', 'zone'])).toBe('c.yaml:8 ingress.zone');
    // Past what the file holds: the line of the deepest part found; nothing found: no line.
    expect(file.at(['sans', 7])).toBe('c.yaml:3 sans[7]');
    expect(file.at(['ingress', 'port'])).toBe('c.yaml:6 ingress.port');
    expect(file.at(['name', 'x'])).toBe('c.yaml:2 name.x');
    expect(file.at(['nodes'])).toBe('c.yaml nodes');
  });

  it('has: whether the file sets the field (an explicit null counts; anything under a scalar does not)', () => {
    const file = parse('name: demo\ningress:\n  alb: a\n  zone: b\n');
    expect(file.has(['name'])).toBe(true);
    expect(file.has(['nodes'])).toBe(false);
    expect(file.has(['ingress', 'alb'])).toBe(true);
    expect(file.has(['ingress', 'port'])).toBe(false);
    expect(file.has(['name', 'length'])).toBe(false);
    const loose = parseSpecFile(z.object({ a: z.unknown(), b: z.unknown() }), 'a: null\nb: [x]\n', 'l.yaml', about);
    expect(loose.has(['a'])).toBe(true);
    expect(loose.has(['a', 'x'])).toBe(false);
    expect(loose.has(['b', 0])).toBe(true);
    expect(loose.has(['b', 1])).toBe(false);
  });

  it('an empty file is no fields; JSON is YAML', () => {
    expect(parse('').data).toEqual({});
    expect(parse('# nothing\n').data).toEqual({});
    expect(parse('{"nodes": 3, "sans": ["x"]}').data).toEqual({ nodes: 3, sans: ['x'] });
  });

  it('YAML errors and documents that are not a mapping are invalid input naming the flag', () => {
    const syntax = userError(() => parse('name: demo\nsans: [a,\n', '-f'));
    expect(syntax.message).toBe('-f c.yaml:3 is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]');
    expect(syntax.suggestion).toBe('see schema/test.schema.json');
    expect(syntax.field).toBe('-f');
    const tab = userError(() => parse('name: demo\n\tnodes: 3\n'));
    expect(tab.message).toMatch(/^--file c\.yaml:2 is not valid YAML: /);
    for (const text of ['- a\n- b\n', 'just text\n', '42\n']) {
      const e = userError(() => parse(text));
      expect(e.message).toBe('--file c.yaml is not a mapping of fields');
      expect(e.suggestion).toBe('see schema/test.schema.json');
      expect(e.field).toBe('--file');
    }
  });

  it('every unknown field and wrong type is reported as FILE:LINE field, the first one as the field', () => {
    const e = userError(() => parse('name: demo\nnodes: three\nnodez: 3\ningress:\n  alb: a\n  zone: b\n  port: 80\nsans: [1]\n'));
    expect(e.message).toBe(
      'c.yaml:2 nodes: Invalid input: expected number, received string; c.yaml:8 sans[0]: Invalid input: expected string, received number; c.yaml:7 ingress.port: unknown field; c.yaml:3 nodez: unknown field',
    );
    expect(e.field).toBe('c.yaml:2 nodes');
    expect(e.suggestion).toBe('the fields of a test file are name, nodeType, nodes, sans, labels, ingress (see schema/test.schema.json)');
    const typeOnly = userError(() => parse('nodes: x\n'));
    expect(typeOnly.suggestion).toBe('see schema/test.schema.json');
  });

  it('a problem of the whole document names the flag', () => {
    const whole = z.object({ a: z.number().optional(), b: z.number().optional() }).refine((v) => v.a !== undefined || v.b !== undefined, 'give a or b');
    const e = userError(() => parseSpecFile(whole, 'c: 1\n', 'w.yaml', { ...about, flag: '-f' }));
    expect(e.message).toBe('-f w.yaml: give a or b');
    expect(e.field).toBe('-f');
    expect(e.suggestion).toBe('see schema/test.schema.json');
  });
});

describe('merging flags over the file', () => {
  const file = parse('name: demo\nnodeType: t3.large\nnodes: 3\nsans:\n  - a.example.com\ningress:\n  alb: shared\n  zone: example.com\n');

  it('a given flag wins, an empty list does not; the file fills the rest', () => {
    const { input } = mergeSpecInput<Input>({ file, fromFlags: { nodeType: 'm5.large', sans: [], labels: undefined }, flagOf: FLAGS });
    expect(input).toEqual({ name: 'demo', nodeType: 'm5.large', nodes: 3, sans: ['a.example.com'], ingress: { alb: 'shared', zone: 'example.com' } });
    expect(mergeSpecInput<Input>({ fromFlags: { nodes: 1 }, flagOf: FLAGS }).input).toEqual({ nodes: 1 });
  });

  it('names a field by the flag as given, by FILE:LINE when the file set it, else by its flag or key', () => {
    const { field } = mergeSpecInput<Input>({
      file,
      fromFlags: { nodeType: 'm5.large' },
      flagValues: { ingress: { alb: 'other' } },
      flagOf: FLAGS,
      asGiven: (flag) => (flag === '--node-type' ? 'K3SCTL_NODE_TYPE' : flag),
    });
    expect(field('nodeType')).toBe('K3SCTL_NODE_TYPE');
    expect(field('nodes')).toBe('c.yaml:3 nodes');
    expect(field('sans', 0)).toBe('c.yaml:5 sans[0]');
    expect(field('ingress.alb')).toBe('--ingress-alb');
    expect(field('ingress.zone')).toBe('c.yaml:8 ingress.zone');
    expect(field('labels')).toBe('--label');
    expect(field('weights')).toBe('weights');
    expect(field('labels', 'app')).toBe('--label');
    const noFlag = mergeSpecInput<{ extra?: string }>({ fromFlags: { extra: 'x' }, flagOf: {} });
    expect(noFlag.field('extra')).toBe('extra');
  });

  it('a flag given empty still wins; a list flag with items wins', () => {
    const { input, field } = mergeSpecInput<Input>({ file, fromFlags: { nodeType: '', sans: ['x.example.com'] }, flagOf: FLAGS });
    expect(input.nodeType).toBe('');
    expect(input.sans).toEqual(['x.example.com']);
    expect(field('nodeType')).toBe('--node-type');
    expect(field('sans', 0)).toBe('--san');
  });

  it('without a file: flags as typed (by default the flag itself), and an argument alone is fine', () => {
    const { input, field } = mergeSpecInput<Input>({ fromFlags: { name: 'prod', nodes: 2 }, flagOf: FLAGS, argument: 'name' });
    expect(input).toEqual({ name: 'prod', nodes: 2 });
    expect(field('nodes')).toBe('--nodes');
    expect(field('nodeType')).toBe('--node-type');
    expect(field('ingress.zone')).toBe('--ingress-zone');
  });

  it('names a field, not an item, even when a map key reads "undefined"', () => {
    const odd = parse('nodes: 1\nlabels:\n  app: web\n  undefined: x\n');
    expect(mergeSpecInput<Input>({ file: odd, fromFlags: {}, flagOf: FLAGS }).field('labels')).toBe('c.yaml:2 labels');
  });

  it('names a map entry of the file by its key', () => {
    const withLabels = parse('labels:\n  app: web\n  tier: front\n');
    const { field } = mergeSpecInput<Input>({ file: withLabels, fromFlags: {}, flagOf: FLAGS });
    expect(field('labels', 'tier')).toBe('c.yaml:3 labels');
  });

  it('the argument and the file must agree on the name', () => {
    const e = userError(() => mergeSpecInput<Input>({ file, fromFlags: { name: 'prod' }, flagOf: FLAGS, argument: 'name' }));
    expect(e.message).toBe("NAME 'prod' differs from c.yaml:1 name 'demo'");
    expect(e.suggestion).toBe('give the same name in both places, or leave one out');
    expect(e.field).toBe('c.yaml:1 name');
    expect(mergeSpecInput<Input>({ file, fromFlags: { name: 'demo' }, flagOf: FLAGS, argument: 'name' }).input.name).toBe('demo');
    expect(mergeSpecInput<Input>({ file, fromFlags: {}, flagOf: FLAGS, argument: 'name' }).input.name).toBe('demo');
    const unnamed = parse('nodes: 1\n');
    expect(mergeSpecInput<Input>({ file: unnamed, fromFlags: { name: 'prod' }, flagOf: FLAGS, argument: 'name' }).input.name).toBe('prod');
    const e2 = userError(() => mergeSpecInput<Input>({ file, fromFlags: { name: 'prod' }, flagOf: {}, argument: 'name' }));
    expect(e2.message).toBe("name 'prod' differs from c.yaml:1 name 'demo'");
  });

  it('relabel: an error about a flag whose value came from the file names the file field', () => {
    const { relabel } = mergeSpecInput<Input>({ file, fromFlags: { nodes: 5 }, flagOf: FLAGS });
    const inMessage = new UserError("--node-type 't3.large' is not offered in us-east-1a", 'try m5.large', '--node-type');
    (inMessage as unknown as Record<string, unknown>).extra = 'kept';
    const r = relabel(inMessage) as UserError;
    expect(r).toBeInstanceOf(UserError);
    expect(r.message).toBe("c.yaml:2 nodeType 't3.large' is not offered in us-east-1a");
    expect(r.suggestion).toBe('try m5.large');
    expect(r.field).toBe('c.yaml:2 nodeType');
    expect((r as unknown as Record<string, unknown>).extra).toBe('kept');
    const notInMessage = relabel(new UserError('no such instance type', undefined, '--node-type')) as UserError;
    expect(notInMessage.message).toBe('c.yaml:2 nodeType: no such instance type');
    // Left alone: a flag the user gave, a field the file does not set, an unknown field, no field, other errors.
    const flagGiven = new UserError('--nodes too many', undefined, '--nodes');
    expect(relabel(flagGiven)).toBe(flagGiven);
    const notInFile = new UserError('--label bad', undefined, '--label');
    expect(relabel(notInFile)).toBe(notInFile);
    const unknown = new UserError('--vpc bad', undefined, '--vpc');
    expect(relabel(unknown)).toBe(unknown);
    const noField = new UserError('bad');
    expect(relabel(noField)).toBe(noField);
    const other = new Error('--node-type');
    expect(relabel(other)).toBe(other);
    // Only UserErrors are relabelled, and only those naming a field.
    const notUser = Object.assign(new Error('--node-type t3.large: Throttling'), { field: '--node-type' });
    expect(relabel(notUser)).toBe(notUser);
    const nested = relabel(new UserError('--ingress-zone example.com has no records', undefined, '--ingress-zone')) as UserError;
    expect(nested.field).toBe('c.yaml:8 ingress.zone');
  });

  it('relabel leaves an error naming no field alone, also where some file fields have no flag', () => {
    const withoutFlags = { ...FLAGS, nodes: undefined };
    const { relabel } = mergeSpecInput<Input>({ file, fromFlags: {}, flagOf: withoutFlags });
    const e = new UserError('something failed');
    expect(relabel(e)).toBe(e);
  });

  it('relabel without a file changes nothing', () => {
    const { relabel } = mergeSpecInput<Input>({ fromFlags: {}, flagOf: FLAGS });
    const e = new UserError('--node-type bad', undefined, '--node-type');
    expect(relabel(e)).toBe(e);
  });
});
