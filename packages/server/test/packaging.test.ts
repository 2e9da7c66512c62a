/**
 * Theory of operation: what a user installs from the registry, checked without packing.
 * `npm pack --dry-run` lists the files the tarball would hold (the `files` rules that
 * `pnpm publish` applies too) and writes nothing; the other checks read the built `dist/`
 * (turbo builds a package before its tests).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

/** The repository every package.json and README link names (there is no other remote). */
const REPOSITORY = 'https://github.com/tether-http/tether';
const DIR = 'packages/server';
const root = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** The paths in the tarball, relative to the package folder. `--ignore-scripts`: nothing runs. */
const packed = new Set(
  (JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path),
);

describe('packaging', () => {
  it('ships the repository LICENSE', () => {
    expect(packed).toContain('LICENSE');
    expect(read('LICENSE')).toBe(read('../../LICENSE'));
  });

  it('names its repository folder, homepage and issue tracker', () => {
    const pkg = JSON.parse(read('package.json')) as Record<string, unknown>;
    expect(pkg).toMatchObject({
      license: 'MIT',
      author: 'the tether authors',
      homepage: `${REPOSITORY}/tree/main/${DIR}#readme`,
      repository: { type: 'git', url: `git+${REPOSITORY}.git`, directory: DIR },
      bugs: { url: `${REPOSITORY}/issues` },
    });
    expect(pkg.keywords).toEqual(expect.arrayContaining([expect.any(String)]));
  });

  it('depends on the other tether packages by a caret range, not an exact pin', () => {
    // pnpm publishes `workspace:^` as `^<version>`: one shared copy of a dependency between packages.
    const pkg = JSON.parse(read('package.json')) as { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
    for (const [name, range] of Object.entries({ ...pkg.dependencies, ...pkg.peerDependencies })) {
      if (name.startsWith('@tether/')) expect(range, name).toBe('workspace:^');
    }
  });
});
