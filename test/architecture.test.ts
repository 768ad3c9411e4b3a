// The layering of docs/ARCHITECTURE.md, checked on every test run (eslint enforces the same rules
// in the editor): the AWS SDK only in src/aws, src/resources and src/sandbox; terminal libraries
// only in src/commands, src/cli and src/ui.
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.resolve(__dirname, '../src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)['"]([^'"]+)['"]/g)) specs.push(m[1]);
  return specs;
}

function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

const layer = (file: string) => path.relative(SRC, file).split(path.sep)[0];

describe('architecture', () => {
  const files = sourceFiles(SRC);

  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('imports the AWS SDK only in src/aws, src/resources and src/sandbox', () => {
    const offenders = files
      .filter((f) => !['aws', 'resources', 'sandbox'].includes(layer(f)))
      .flatMap((f) => importsOf(f).filter((s) => /^@aws-sdk\/|^@smithy\//.test(s)).map((s) => `${path.relative(SRC, f)}: ${s}`));
    expect(offenders).toEqual([]);
  });

  it('imports oclif, listr2 and inquirer only in src/commands, src/cli and src/ui', () => {
    const offenders = files
      .filter((f) => !['commands', 'cli', 'ui'].includes(layer(f)))
      .flatMap((f) => importsOf(f).filter((s) => /^@oclif\/|^listr2$|^@inquirer\//.test(s)).map((s) => `${path.relative(SRC, f)}: ${s}`));
    expect(offenders).toEqual([]);
  });

  it('keeps dependencies pointing one way: resources, the provider kit and aws never import the engine, workflows, commands or UI', () => {
    const offenders = files
      .filter((f) => ['aws', 'resources', 'provider', 'sandbox', 'core', 'config'].includes(layer(f)))
      .flatMap((f) =>
        importsOf(f)
          .filter((s) => s.startsWith('.'))
          .map((s) => path.relative(SRC, path.resolve(path.dirname(f), s)).split(path.sep).join('/'))
          .filter((target) => ['orchestration', 'commands', 'cli', 'ui'].includes(target.split('/')[0]))
          .map((target) => `${path.relative(SRC, f)} -> ${target}`),
      );
    expect(offenders).toEqual([]);
  });

  it('spells tag keys only in src/aws/tags.ts', () => {
    const offenders = files
      .filter((f) => !f.endsWith(path.join('aws', 'tags.ts')))
      .filter((f) => /['"`]k3sctl\.io\/(cluster|role|group|shared|service|managed-by)['"`]/.test(withoutComments(fs.readFileSync(f, 'utf8'))))
      .map((f) => path.relative(SRC, f));
    expect(offenders).toEqual([]);
  });
});
