/**
 * The first release, rehearsed on a throwaway copy of the repository (never on the work tree):
 *   1. `changeset version` gives each published package its first version, 0.1.0, and a
 *      CHANGELOG holding exactly its first-release entry (no "Patch Changes" about fixes that were
 *      never released), and leaves no changeset pending.
 *   2. `changeset publish` publishes the four packages to a local registry (verdaccio, see
 *      local-registry.ts); pnpm rewrites `workspace:^` to `^0.1.0` on the way.
 *   3. A fresh npm project outside the workspace installs them by name from that registry,
 *      type-checks every package README's example against what was published and runs it.
 * The copy is the files git would commit (tracked, or untracked and not ignored) plus the built
 * dist/ of each published package, made a git repository of its own so `changeset version` writes
 * the commit in each entry as it will on main. TETHER_KEEP_RELEASE=1 keeps the directory.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ROOT, TOOLS, node, run, writeProject } from './consumer-projects.js';
import { type LocalRegistry, startLocalRegistry } from './local-registry.js';

/**
 * The published packages and the first version of each: 0.1.0, a minor bump from the unreleased
 * 0.0.0. Not 0.0.1, since `^0.0.1` admits 0.0.1 alone and the caret ranges between the packages
 * would pin exact versions again; not 1.0.0, which would promise APIs that are weeks old.
 */
const FIRST = {
  '@tether/client': '0.1.0',
  '@tether/netem': '0.1.0',
  '@tether/protocol': '0.1.0',
  '@tether/server': '0.1.0',
} as const;
type Name = keyof typeof FIRST;
const NAMES = Object.keys(FIRST) as Name[];
const short = (name: Name): string => name.slice('@tether/'.length);
const folder = (name: Name): string => `packages/${short(name)}`;

/** Each package's README example (kept verbatim in the README by the package's own test), and what it prints. */
const EXAMPLES: Readonly<Record<Name, { file: string; prints: (string | RegExp)[] }>> = {
  '@tether/protocol': {
    file: 'examples/pipelining.ts',
    prints: ['200 keep-alive', 'you asked for /a', '200 close', 'you asked for /b', 'server: MUST_CLOSE client: MUST_CLOSE'],
  },
  '@tether/server': {
    file: 'examples/hello.ts',
    prints: ['200 timeout=5, max=99 GET /a (0 bytes in)', '200 timeout=5, max=98 GET /b (0 bytes in)', '2 requests on 1 connection; 0 forced'],
  },
  '@tether/client': {
    file: 'examples/pool.ts',
    prints: ['200 hello /item/0 … 200 hello /item/9', /^10 responses, [34] connections opened, [67] handshakes saved, 0 re-sent$/],
  },
  '@tether/netem': {
    file: 'examples/echo.ts',
    // Timings in whole half RTTs: never below the model's (the link is never early), and up to
    // half an RTT above it when a loaded machine fires timers late; an extra round trip fails.
    prints: [/^first echo: 2(\.5)? RTT \(handshake \+ round trip\)$/, /^second echo: 1(\.5)? RTT$/, '1 connection, 1 handshake, 10 bytes up, 10 bytes down'],
  },
};

const root = mkdtempSync(path.join(tmpdir(), 'tether-release-'));
const repo = path.join(root, 'repo');
const consumer = path.join(root, 'consumer');
let registry: LocalRegistry | undefined;
/** What each changeset said, read before `changeset version` deletes them. */
const summaries = new Map<Name, string[]>();
/** The commit that adds the changesets, which changesets names in each entry. */
let changesetsCommit = '';

const git = (...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=release test', '-c', 'user.email=release@test.invalid', ...args], { cwd: repo, encoding: 'utf8' });
const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
/** Markdown compared as words: changesets re-wraps nothing but re-indents continuation lines. */
const words = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** Copies the repository's committable files and the published packages' dist/ into `repo`. */
function copyRepository(): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  for (const file of files.split('\0')) {
    if (file === '' || !existsSync(path.join(ROOT, file))) continue; // deleted in the work tree
    cpSync(path.join(ROOT, file), path.join(repo, file));
  }
  for (const name of NAMES) cpSync(path.join(ROOT, folder(name), 'dist'), path.join(repo, folder(name), 'dist'), { recursive: true });
  // The changeset CLI and the changelog module it loads resolve from the workspace's install.
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(repo, 'node_modules'));
  git('init', '--quiet', '--initial-branch=main');
  git('add', '--all');
  git('commit', '--quiet', '--no-verify', '--message', 'the work tree under test');
  changesetsCommit = git('rev-parse', '--short=7', 'HEAD').trim();
}

/** Each changeset's releases and summary, by package. */
function readChangesets(): void {
  const dir = path.join(repo, '.changeset');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
    const match = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(readFileSync(path.join(dir, file), 'utf8'));
    if (match?.[1] === undefined || match[2] === undefined) throw new Error(`${file}: no front matter`);
    for (const line of match[1].split('\n')) {
      const release = /^'(@tether\/[a-z]+)': (major|minor|patch)$/.exec(line);
      if (release?.[1] === undefined) throw new Error(`${file}: unexpected front matter line ${line}`);
      const list = summaries.get(release[1] as Name) ?? [];
      list.push(match[2].trim());
      summaries.set(release[1] as Name, list);
    }
  }
}

/**
 * Links each published package's `workspace:` dependencies (dev ones too, which pnpm rewrites as
 * well) into its node_modules, as
 * `pnpm install` would: pnpm publish reads the linked package's version to rewrite the range.
 */
function linkWorkspaceDependencies(): void {
  for (const name of NAMES) {
    const pkg = readJson(path.join(repo, folder(name), 'package.json')) as Record<string, Record<string, string> | undefined>;
    const ranges: Record<string, string> = { ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies };
    for (const [dependency, range] of Object.entries(ranges)) {
      if (!range.startsWith('workspace:')) continue;
      const link = path.join(repo, folder(name), 'node_modules', dependency);
      mkdirSync(path.dirname(link), { recursive: true });
      symlinkSync(path.join(repo, workspaceFolder(dependency)), link);
    }
  }
}

/** The folder of a workspace package: a published one under packages/, a private test helper under testing/. */
function workspaceFolder(name: string): string {
  const folders = [`packages/${name.slice('@tether/'.length)}`, `testing/${name.slice('@tether/'.length)}`];
  const found = folders.find((candidate) => existsSync(path.join(repo, candidate, 'package.json')) && readJson(path.join(repo, candidate, 'package.json')).name === name);
  if (found === undefined) throw new Error(`${name}: no workspace package of that name in ${folders.join(' or ')}`);
  return found;
}

const changeset = (args: string[], env: Record<string, string> = {}): Promise<unknown> =>
  node([path.join(ROOT, 'node_modules/@changesets/cli/bin.js'), ...args], repo, 180_000, env);

beforeAll(async () => {
  copyRepository();
  readChangesets();
  const [, started] = await Promise.all([changeset(['version']), startLocalRegistry(path.join(root, 'registry'))]);
  registry = started;
  git('add', '--all');
  git('commit', '--quiet', '--no-verify', '--message', 'version packages');

  // The registry for pnpm (and the npm it publishes with) in .npmrc, for changesets' own
  // `npm info` in the environment (it passes npm's registry unless that names another).
  const host = registry.url.replace(/^http:/, '');
  writeFileSync(path.join(repo, '.npmrc'), `@tether:registry=${registry.url}\n${host}:_authToken=${registry.token}\n`);
  linkWorkspaceDependencies();
  await changeset(['publish', '--no-git-tag'], { 'npm_config_@tether:registry': registry.url });

  // A user's first project: strict, and the shipped declarations checked too (no skipLibCheck).
  const compilerOptions = { module: 'nodenext', strict: true, skipLibCheck: false, types: ['node'], rootDir: 'src', outDir: 'dist' };
  const examples = NAMES.map((name): [string, string] => [`src/${short(name)}.ts`, readFileSync(path.join(ROOT, folder(name), EXAMPLES[name].file), 'utf8')]);
  writeProject(consumer, {
    'package.json': `${JSON.stringify({ name: 'first-user', private: true, type: 'module' }, null, 2)}\n`,
    // Only @tether comes from the local registry: typescript and @types/node from npm's.
    '.npmrc': `@tether:registry=${registry.url}\n`,
    'tsconfig.json': `${JSON.stringify({ compilerOptions, include: ['src'] }, null, 2)}\n`,
    ...Object.fromEntries(examples),
  });
  const specs = [...NAMES.map((name) => `${name}@${FIRST[name]}`), `typescript@${TOOLS.typescript}`, `@types/node@${TOOLS['@types/node']}`];
  // No --prefer-offline: the packuments must be the local registry's of this run.
  await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', ...specs], consumer, 300_000);
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  if (process.env.TETHER_KEEP_RELEASE) console.log(`release rehearsal kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
});

describe('changeset version', () => {
  it('finds exactly one changeset per published package, a minor one', () => {
    expect([...summaries.keys()].sort()).toEqual(NAMES);
    for (const name of NAMES) expect(summaries.get(name), name).toHaveLength(1);
    const text = readdirSync(path.join(ROOT, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
    expect(text).toHaveLength(NAMES.length);
  });

  it.each(NAMES)('gives %s its first version and leaves the private packages alone', (name) => {
    expect(readJson(path.join(repo, folder(name), 'package.json')).version).toBe(FIRST[name]);
    for (const privateFolder of ['apps/demo', 'bench', 'packaging']) {
      expect(readJson(path.join(repo, privateFolder, 'package.json')).version).toBe('0.0.0');
    }
  });

  it.each(NAMES)('writes a CHANGELOG for %s with exactly its first-release entry', (name) => {
    const changelog = readFileSync(path.join(repo, folder(name), 'CHANGELOG.md'), 'utf8');
    const [summary = ''] = summaries.get(name) ?? [];
    expect(changelog.split('\n').filter((line) => line.startsWith('#'))).toEqual([`# ${name}`, `## ${FIRST[name]}`, '### Minor Changes']);
    expect(changelog).not.toMatch(/Patch Changes|Updated dependencies/);
    expect(words(changelog)).toBe(words(`# ${name} ## ${FIRST[name]} ### Minor Changes - ${changesetsCommit}: ${summary}`));
    expect(summary).toMatch(/^First release\. /);
  });

  it('leaves no changeset pending', () => {
    expect(readdirSync(path.join(repo, '.changeset')).sort()).toEqual(['README.md', 'changelog.cjs', 'config.json']);
  });
});

describe('changeset publish to a local registry', () => {
  it.each(NAMES)('published %s at its first version as latest, workspace:^ resolved', async (name) => {
    const url = new URL(name.replace('/', '%2f'), registry?.url);
    const packument = (await (await fetch(url)).json()) as {
      'dist-tags': Record<string, string>;
      versions: Record<string, { dependencies?: Record<string, string> }>;
    };
    expect(packument['dist-tags']).toEqual({ latest: FIRST[name] });
    expect(Object.keys(packument.versions)).toEqual([FIRST[name]]);
    const dependencies = packument.versions[FIRST[name]]?.dependencies ?? {};
    for (const range of Object.values(dependencies)) expect(range).not.toMatch(/^workspace:/);
    if (name === '@tether/server' || name === '@tether/client') {
      expect(dependencies).toEqual({ '@tether/protocol': `^${FIRST['@tether/protocol']}` });
    }
  });
});

describe('installed by name from the local registry into a fresh project', () => {
  it('has each package once, at its first version, the tarball the local registry holds', async () => {
    const lock = readJson(path.join(consumer, 'package-lock.json')) as { packages: Record<string, { version?: string; integrity?: string }> };
    const tether = Object.entries(lock.packages).filter(([at]) => at.includes('node_modules/@tether/'));
    expect(tether.map(([at]) => at).sort()).toEqual(NAMES.map((name) => `node_modules/${name}`));
    for (const [at, entry] of tether) {
      const name = at.slice('node_modules/'.length) as Name;
      expect(entry.version, at).toBe(FIRST[name]);
      const packument = (await (await fetch(new URL(name.replace('/', '%2f'), registry?.url))).json()) as {
        versions: Record<string, { dist: { integrity: string } }>;
      };
      expect(entry.integrity, at).toBe(packument.versions[FIRST[name]]?.dist.integrity);
    }
  });

  it('type-checks every README example against the published declarations', async () => {
    await node(['node_modules/typescript/bin/tsc', '-p', '.'], consumer, 90_000);
  });

  it.each(NAMES)('runs the README example of %s', async (name) => {
    const { stdout, stderr } = await node([`dist/${short(name)}.js`], consumer);
    const lines = stdout.trim().split('\n');
    const prints = EXAMPLES[name].prints;
    expect(lines).toHaveLength(prints.length);
    prints.forEach((expected, i) => (typeof expected === 'string' ? expect(lines[i]).toBe(expected) : expect(lines[i]).toMatch(expected)));
    expect(stderr).toBe('');
  });
});
