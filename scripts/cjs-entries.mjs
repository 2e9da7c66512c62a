// Gives an ESM package its CommonJS door, run after `tsc` by each package's build.
//
// Theory of operation: the packages are ES modules only; CommonJS callers load them through
// Node's require(esm) (unflagged from 20.19.0 and 22.12.0, hence `engines`). What CommonJS needs
// beyond that is types TypeScript accepts from a `require` (under `module: node16` a CommonJS file
// may not import an ES module's declarations) and a CommonJS file for the `require` condition to
// name, so the types' format and the file's format agree. For each `exports` entry whose
// `require.default` is `./dist/cjs/<name>.js`, this writes:
//   dist/cjs/package.json   {"type":"commonjs"}: every .js/.d.ts below it is CommonJS
//   dist/cjs/<name>.js      module.exports = require('../<name>.js'), the entry's ESM file
//   dist/cjs/*.d.ts(.map)   a copy of every declaration file (and map, its sources re-based)
// Invariant: there is one copy of the code. A `require` returns the very module namespace an
// `import` does, so classes, `instanceof` and module state (default pools) are shared; only the
// declarations are duplicated, read as CommonJS.
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const dist = path.resolve('dist');
const cjs = path.join(dist, 'cjs');

rmSync(cjs, { recursive: true, force: true });
mkdirSync(cjs, { recursive: true });
writeFileSync(path.join(cjs, 'package.json'), '{\n  "type": "commonjs"\n}\n');

let entries = 0;
for (const [subpath, conditions] of Object.entries(pkg.exports ?? {})) {
  const esm = conditions?.import?.default;
  const stub = conditions?.require?.default;
  if (typeof esm !== 'string' || typeof stub !== 'string') {
    throw new Error(`${pkg.name}: exports["${subpath}"] needs import.default and require.default`);
  }
  const stubFile = path.resolve(stub);
  if (path.dirname(stubFile) !== cjs) {
    throw new Error(`${pkg.name}: exports["${subpath}"].require.default must be in dist/cjs/`);
  }
  const target = path.relative(cjs, path.resolve(esm)).split(path.sep).join('/');
  writeFileSync(
    stubFile,
    `'use strict';\n// ${pkg.name}${subpath.slice(1)} for require(): the ES module itself (require(esm)).\nmodule.exports = require('${target.startsWith('.') ? target : `./${target}`}');\n`,
  );
  entries += 1;
}

let declarations = 0;
for (const name of readdirSync(dist, { recursive: true })) {
  const from = path.join(dist, name);
  if (from.startsWith(cjs + path.sep)) continue;
  const to = path.join(cjs, name);
  if (name.endsWith('.d.ts')) {
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(from, to);
    declarations += 1;
  } else if (name.endsWith('.d.ts.map')) {
    // A map's sources are relative to the map (or to its sourceRoot): re-base them one level down.
    const map = JSON.parse(readFileSync(from, 'utf8'));
    const rebase = (p) =>
      /^[a-z]+:|^\//i.test(p)
        ? p
        : path.relative(path.dirname(to), path.resolve(path.dirname(from), p)).split(path.sep).join('/');
    if (map.sourceRoot) map.sourceRoot = rebase(map.sourceRoot);
    else map.sources = map.sources.map(rebase);
    mkdirSync(path.dirname(to), { recursive: true });
    writeFileSync(to, JSON.stringify(map));
  }
}
console.log(`${pkg.name}: ${entries} CommonJS entries, ${declarations} declarations in dist/cjs`);
