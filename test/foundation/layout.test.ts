import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../support/processes';

// The shape of the code (README, "How the code is laid out"): arrows run one way, from the entry points
// and the composition root (app/) through the capabilities to the kernel. Read from the sources' imports.

const SRC = path.join(ROOT, 'src');
const KERNEL = new Set(['graphql', 'db', 'crypto']);

/** `from` folder (or top-level file) → the folders and top-level files it imports. */
function folderImports(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  const unitOf = (file: string) => path.relative(SRC, file).split(path.sep)[0].replace(/\.ts$/, '');
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return walk(full);
      return entry.name.endsWith('.ts') ? [full] : [];
    });
  for (const file of walk(SRC)) {
    const from = unitOf(file);
    for (const [, specifier] of fs.readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const target = path.resolve(path.dirname(file), specifier);
      if (!target.startsWith(SRC + path.sep)) continue;
      const to = unitOf(target);
      if (to !== from) edges.set(from, (edges.get(from) ?? new Set()).add(to));
    }
  }
  return edges;
}

describe('how the code is laid out', () => {
  const edges = folderImports();
  const importsOf = (unit: string) => [...(edges.get(unit) ?? [])].sort();

  it('has no two folders that import each other', () => {
    const mutual = [...edges].flatMap(([from, tos]) =>
      [...tos].filter((to) => edges.get(to)?.has(from)).map((to) => `${from} <-> ${to}`),
    );
    expect(mutual).toEqual([]);
  });

  it('keeps the kernel (graphql/, db/, crypto/) free of capabilities', () => {
    for (const kernel of KERNEL) {
      expect({
        kernel,
        imports: importsOf(kernel).filter((to) => fs.existsSync(path.join(SRC, to)) && !KERNEL.has(to)),
      }).toEqual({ kernel, imports: [] });
    }
  });

  it('lets only the entry points import the composition root', () => {
    const importers = [...edges]
      .filter(([, tos]) => tos.has('app'))
      .map(([from]) => from)
      .sort();
    expect(importers).toEqual(['cli', 'main']);
  });

  it('keeps auth from the stored keys and routing from the crypto', () => {
    expect(importsOf('auth')).not.toContain('provider-keys');
    expect(importsOf('routing')).not.toContain('crypto');
    expect(importsOf('providers')).toEqual([]);
  });
});
