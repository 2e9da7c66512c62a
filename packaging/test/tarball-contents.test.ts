/**
 * Theory of operation: what a user installs from the registry, for each published package,
 * checked without packing. `npm pack --dry-run` lists the files the tarball would hold (the
 * `files` rules that `pnpm publish` applies too) and writes nothing; the other checks read the
 * built `dist/` (turbo builds every package before this one's tests). One table row per package
 * says what is particular to it: an error to throw from inside it, and the @internal
 * declarations its shipped types must not show.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** The repository every package.json and README link names (there is no other remote). */
const REPOSITORY = 'https://github.com/tether-http/tether';
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface PackageRow {
  /** The package's folder, from the repository root. */
  readonly dir: string;
  /** A module body (ESM, `m` the package) that makes the package throw from inside, printing `err.stack`. */
  readonly thrower: string;
  /** The first line of that stack. */
  readonly message: string;
  /** Shipped `.d.ts` module (from the package folder) → exported class → its @internal members; `[]`: the export itself is @internal. */
  readonly internal: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

const PACKAGES: readonly PackageRow[] = [
  {
    dir: 'packages/protocol',
    thrower: 'm.formatKeepAlive({ max: -1 });',
    message: 'RangeError: Keep-Alive max must be a non-negative integer, got -1',
    // The head-text writers are exported between modules for connection.ts, not to users.
    internal: { 'dist/writers.d.ts': { requestHeadText: [], responseHeadText: [] } },
  },
  {
    dir: 'packages/server',
    thrower: 'm.createServer({ keepAliveMax: -1 }, () => undefined);',
    message: 'RangeError: keepAliveMax must be an integer ≥ 1 or Infinity, got -1',
    internal: {
      'dist/index.d.ts': {
        TetherServer: ['nodeObjects', 'handle', 'reportError', 'clientError', 'upgrade', 'onRequest', 'onClosed'],
        ServerResponse: ['hasLowerCaseHeader', 'rawHeaderList', 'markHeadSent'],
      },
    },
  },
  {
    dir: 'packages/client',
    thrower: "new m.Pool('http://127.0.0.1', { connections: -1 });",
    message: 'RangeError: connections must be an integer ≥ 1 or Infinity, got -1',
    internal: { 'dist/index.d.ts': { Pool: ['options', 'address', 'enqueue', 'refusal', 'cancel', 'load'], ResponseBody: ['onSettled', 'push', 'end', 'fail', 'sink', 'pauseSink', 'resumeSink', 'request'] } },
  },
  {
    dir: 'packages/netem',
    thrower: 'await m.createLink({ rtt: -1 });',
    message: 'RangeError: rtt must be a finite number of ms ≥ 0, got -1',
    internal: { 'dist/index.d.ts': { Forward: ['adopt', 'takeToxics'] } },
  },
];

describe.each(PACKAGES)('$dir as packed', (row) => {
  const root = `${REPO_ROOT}${row.dir}/`;
  const read = (path: string): string => readFileSync(`${root}${path}`, 'utf8');
  /** The paths in the tarball, relative to the package folder. `--ignore-scripts`: nothing runs. */
  const packed = (): Set<string> =>
    new Set((JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));

  it('ships the repository LICENSE', () => {
    expect(packed()).toContain('LICENSE');
    expect(read('LICENSE')).toBe(readFileSync(`${REPO_ROOT}LICENSE`, 'utf8'));
  });

  it('names its repository folder, homepage and issue tracker', () => {
    const pkg = JSON.parse(read('package.json')) as Record<string, unknown>;
    expect(pkg).toMatchObject({
      license: 'MIT',
      author: 'the tether authors',
      homepage: `${REPOSITORY}/tree/main/${row.dir}#readme`,
      repository: { type: 'git', url: `git+${REPOSITORY}.git`, directory: row.dir },
      bugs: { url: `${REPOSITORY}/issues` },
    });
    expect(pkg.keywords).toEqual(expect.arrayContaining([expect.any(String)]));
  });

  it('links from its README only to absolute URLs, which work on the registry page', () => {
    // The registry shows the README outside the repository: `../protocol` would lead nowhere.
    const targets = [...read('README.md').matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
    for (const target of targets) expect(target).toMatch(/^(https:|#)/);
    for (const target of targets.filter((t) => t.startsWith(`${REPOSITORY}/tree/`) || t.startsWith(`${REPOSITORY}/blob/`))) {
      // A link into this repository names a file that is there (a folder under tree/, a file under blob/).
      const [, kind, path] = /\/(tree|blob)\/main\/([^#]+)/.exec(target)!;
      expect(kind, target).toBe(statSync(`${REPO_ROOT}${path}`).isDirectory() ? 'tree' : 'blob');
    }
  });

  it('depends on the other tether packages by a caret range, not an exact pin', () => {
    // pnpm publishes `workspace:^` as `^<version>`: one shared copy of a dependency between packages.
    const pkg = JSON.parse(read('package.json')) as { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
    for (const [name, range] of Object.entries({ ...pkg.dependencies, ...pkg.peerDependencies })) {
      if (name.startsWith('@tether/')) expect(range, name).toBe('workspace:^');
    }
  });

  it('takes no private workspace package as a dependency a user would install', () => {
    // @tether/peers (testing/) is private and never published: a devDependency at most.
    const pkg = JSON.parse(read('package.json')) as Record<string, Record<string, string> | undefined>;
    const installed = { ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies };
    for (const name of Object.keys(installed).filter((dependency) => dependency.startsWith('@tether/'))) {
      const folder = `${REPO_ROOT}packages/${name.slice('@tether/'.length)}/package.json`;
      expect(statSync(folder, { throwIfNoEntry: false })?.isFile(), `${name} is a published package under packages/`).toBe(true);
      expect((JSON.parse(readFileSync(folder, 'utf8')) as { private?: boolean }).private, name).not.toBe(true);
    }
  });

  it('ships the source file every .js and .d.ts map points to', () => {
    // Maps name `../src/*.ts`: src/ ships, so stack traces and go-to-definition land on real files.
    const files = packed();
    const maps = [...files].filter((path) => path.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const { sources } = JSON.parse(read(map)) as { sources: string[] };
      for (const source of sources) expect(files, `${map} → ${source} (a stale dist/? build from clean)`).toContain(posix.join(posix.dirname(map), source));
    }
  });

  it('names the shipped .ts line that threw in a stack trace under --enable-source-maps', () => {
    // A real process loads the built package and makes it throw from inside.
    const entry = pathToFileURL(`${root}dist/index.js`).href;
    const script = `import * as m from ${JSON.stringify(entry)};\ntry { ${row.thrower} } catch (err) { console.log(err.stack); }`;
    const stack = execFileSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(stack).toContain(row.message);
    // The innermost frame in this package: `at fn (/abs/path/src/file.ts:line:column)`.
    const frame = stack
      .split('\n')
      .map((line) => /^\s+at (?:.* \()?(.+):(\d+):\d+\)?$/.exec(line))
      .find((match) => match?.[1]?.startsWith(root));
    expect(frame, stack).toBeDefined();
    const [, file, line] = frame!;
    const shipped = file!.slice(root.length);
    expect(shipped).toMatch(/^src\/.+\.ts$/);
    expect(packed()).toContain(shipped);
    expect(read(shipped).split('\n')[Number(line) - 1]).toContain('throw new RangeError');
  });

  it('keeps @internal declarations out of the shipped types', () => {
    for (const [module, owners] of Object.entries(row.internal)) {
      const exported = shippedExports(`${root}${module}`);
      for (const [owner, names] of Object.entries(owners)) {
        if (names.length === 0) {
          expect(exported.has(owner), `${module}: ${owner}`).toBe(false);
          continue;
        }
        const members = exported.get(owner);
        expect(members, `${module}: ${owner}`).toBeDefined();
        for (const name of names) expect(members, `${owner}.${name}`).not.toContain(name);
      }
    }
  });
});

/**
 * What a module's shipped types export, as a type checker reads them: each exported name with
 * its members (a class's instance and static members; nothing for a function or a constant).
 */
function shippedExports(file: string): Map<string, string[]> {
  const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  const exported = new Map<string, string[]>();
  for (const symbol of checker.getExportsOfModule(module)) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const members = target.flags & ts.SymbolFlags.Class ? [checker.getDeclaredTypeOfSymbol(target), checker.getTypeOfSymbol(target)].flatMap((type) => checker.getPropertiesOfType(type).map((p) => p.name)) : [];
    exported.set(symbol.name, members);
  }
  return exported;
}
