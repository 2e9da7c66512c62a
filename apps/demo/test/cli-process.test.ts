/**
 * The CLI as a user runs it: a child process (`node dist/cli.js`, and the root `pnpm demo` where
 * pnpm's own behaviour matters), its exit code, stdout and stderr. Needs `dist/` (turbo builds it
 * before test; the root `demo` script builds it too).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { userCwd } from '../src/cli.js';

const demoDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = path.resolve(demoDir, '../..');
const cli = path.join(demoDir, 'dist/cli.js');

/** A page load that takes about a second: two objects, no delay, one strategy, no report. */
const FAST = ['--objects', '2', '--rtt', '0', '--strategies', 'parallel'];

function run(args: readonly string[], cwd = demoDir, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, ...args], { cwd, env, encoding: 'utf8', timeout: 30_000 });
}

/** The root script, the way a user types it (`pnpm demo …`), from `cwd`. */
function pnpmDemo(pnpmFlags: readonly string[], args: readonly string[], cwd = repoRoot): SpawnSyncReturns<string> {
  return spawnSync('pnpm', [...pnpmFlags, 'demo', ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
}

describe('pnpm demo --help', () => {
  it.each([['--help'], ['-h'], ['help'], ['sweep', '--help'], ['--rtt', '10', '-h']])('%s prints the usage and exits 0', (...argv) => {
    const r = run(argv);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^usage: pnpm demo /m);
    expect(r.stdout).toContain('--report <file>');
    expect(r.status).toBe(0);
  });

  it('through the root script too', () => {
    const r = pnpmDemo([], ['--help']);
    expect(r.stdout).toMatch(/^usage: pnpm demo /m);
    expect(r.status).toBe(0);
  }, 120_000);
});

describe('usage errors', () => {
  it.each([
    [['--bogus'], /unknown argument --bogus/],
    [['--rtt', 'fast'], /--rtt: not a non-negative number: fast/],
    [['sweep'], /sweep needs/],
    [['lab', 'nope'], /lab needs one of/],
    [['--slow', '100'], /sweep axis/],
  ] as const)('%j exits 2, names the problem and points to --help', (argv, problem) => {
    const r = run(argv);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(problem);
    expect(r.stderr).toContain('(see --help)');
    expect(r.status).toBe(2);
  });
});

describe('pnpm demo serve on a busy port', () => {
  let busy: Server | undefined;
  afterAll(() => void busy?.close());

  it('prints one line naming the port and --port <n>, no stack, exits 1', async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy!.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as AddressInfo;
    // spawnSync would block the loop that owns the busy socket; the listen backlog still holds it.
    const r = run(['serve', '--port', String(port)]);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`port ${port} is in use`);
    expect(lines[0]).toContain('--port <n>');
    expect(r.stderr).not.toMatch(/EADDRINUSE|\n\s+at /);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(1);
  });
});

describe('pnpm -s demo --json', () => {
  it('stdout is one JSON document (turbo and the inner pnpm print nothing there)', () => {
    const r = pnpmDemo(['--silent'], ['--json', ...FAST, '--report', '-']);
    expect(r.status, r.stderr).toBe(0);
    const parsed = JSON.parse(r.stdout) as { params: { strategies: string[] }; results: unknown[] };
    expect(parsed.params.strategies).toEqual(['parallel']);
    expect(parsed.results).toHaveLength(1);
    // Progress goes to stderr, never into the JSON.
    expect(r.stderr).toMatch(/1\/1 parallel/);
  }, 120_000);
});

describe('pnpm demo (the root command)', () => {
  const scratch = path.join(demoDir, '.vitest');
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(path.join(scratch, 'build-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('pipes into jq: stdout is JSON only, with no pnpm banner and no build output', () => {
    const r = spawnSync('sh', ['-c', `pnpm demo --json ${FAST.join(' ')} --report - | jq -c .params.strategies`], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout).toBe('["parallel"]\n');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/turbo|Tasks:/);
  }, 120_000);

  it('a compile error shows the compiler\'s messages on stderr, exits with its code and runs nothing', () => {
    // A build that is a real tsc run on a file with a type error.
    const broken = path.join(dir, 'broken.ts');
    writeFileSync(broken, 'export const n: number = "not a number";\n');
    const build = path.join(dir, 'build.sh');
    writeFileSync(build, `#!/bin/sh\necho "some build status line"\nexec "${process.execPath}" "${path.join(repoRoot, 'node_modules/typescript/bin/tsc')}" --noEmit --pretty false "${broken}"\n`);
    chmodSync(build, 0o755);
    const r = spawnSync('pnpm', ['demo', '--json', ...FAST], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000, env: { ...process.env, TETHER_DEMO_BUILD: build } });
    expect(r.stderr).toContain("broken.ts(1,14): error TS2322: Type 'string' is not assignable to type 'number'.");
    expect(r.stderr).toContain('the build failed');
    expect(r.stdout).toBe('');
    expect(r.status).toBe(2);
  }, 120_000);
});

describe('pnpm demo serve, stopped with Ctrl-C', () => {
  it('the root command passes SIGINT to the dashboard, which stops and exits 0', async () => {
    const child = spawn(process.execPath, [path.join(demoDir, 'bin/demo.mjs'), 'serve', '--port', '0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /dashboard: (http:\/\/\S+)/.exec(out);
          if (m?.[1] !== undefined) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code} before serving: ${out}`)));
      });
      expect((await fetch(url)).status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      await expect(fetch(url)).rejects.toThrow();
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 120_000);
});

describe('--report <file>', () => {
  const scratch = path.join(demoDir, '.vitest');
  mkdirSync(scratch, { recursive: true });
  const userDir = mkdtempSync(path.join(scratch, 'cwd-'));
  afterAll(() => rmSync(userDir, { recursive: true, force: true }));

  it('is relative to the directory the user typed `pnpm demo` in (INIT_CWD), not apps/demo/', () => {
    const r = pnpmDemo(['--silent'], [...FAST, '--report', 'out-user.html'], userDir);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(path.join(userDir, 'out-user.html'))).toBe(true);
    expect(existsSync(path.join(demoDir, 'out-user.html'))).toBe(false);
    expect(r.stderr).toContain(`report: ${path.join(userDir, 'out-user.html')}`);
  }, 120_000);

  it('falls back to the process directory without INIT_CWD', () => {
    expect(userCwd({ INIT_CWD: '/somewhere' })).toBe('/somewhere');
    expect(userCwd({})).toBe(process.cwd());
    expect(userCwd({ INIT_CWD: 'relative' })).toBe(process.cwd());
  });
});
