/**
 * Makes `dist` (tsc's output) a package of its own, installable outside this repository:
 * `npm install <path>/packages/sdk/dist`, or `npm pack packages/sdk/dist` for a tarball. In the
 * workspace the package's `exports` point at the TypeScript sources, which Node strips but will not
 * strip inside another project's node_modules; this one points at the JavaScript and its types.
 * The SDK has no dependencies beyond Node's own modules.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const outDir = process.argv[2] ?? join(root, 'dist');
const source = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const published = {
  name: source.name,
  version: source.version,
  description: source.description,
  license: source.license,
  type: 'module',
  exports: { '.': { types: './index.d.ts', default: './index.js' } },
  engines: { node: '>=22' },
};
writeFileSync(join(outDir, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
