#!/usr/bin/env node
/**
 * Theory of operation: `pnpm demo …` typed at the repository root. The root package.json has
 * no `demo` script on purpose: pnpm then runs the `demo` command of the root's node_modules/.bin
 * (this file, linked from the root's devDependency on @tether/demo), and prints no
 * `> tether@ demo …` banner on stdout as it does for a script, so `pnpm demo --json | jq .`
 * reads JSON only.
 *
 * It first brings the demo and the packages it uses up to date with turbo (cached: well under a
 * second when nothing changed). A successful build prints nothing; a failed one (a compile
 * error) prints turbo's log of the failing task — tsc's own messages — on stderr and exits with
 * turbo's code. Then it runs dist/cli.js with the arguments, in the user's directory.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const demoDir = fileURLToPath(new URL('..', import.meta.url));
const repoRoot = path.resolve(demoDir, '../..');
// TETHER_DEMO_BUILD: another build command, one executable file (the tests make a build fail with it).
const turbo = process.env.TETHER_DEMO_BUILD || path.join(repoRoot, 'node_modules/.bin/turbo');

const build = spawnSync(turbo, ['run', 'build', '--filter=@tether/demo...', '--output-logs=errors-only', '--log-prefix=none'], {
  cwd: repoRoot,
  encoding: 'utf8',
  // turbo's own status lines are noise on success; its errors are what a user needs on failure.
  stdio: ['ignore', 'pipe', 'pipe'],
});
if (build.status !== 0) {
  process.stderr.write(build.stdout ?? '');
  process.stderr.write(build.stderr ?? '');
  if (build.error !== undefined) process.stderr.write(`tether demo: could not run ${turbo}: ${build.error.message}\n`);
  process.stderr.write('tether demo: the build failed (above); nothing was run\n');
  process.exit(build.status ?? 1);
}

const cli = spawn(process.execPath, [path.join(demoDir, 'dist/cli.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  // The CLI resolves --report against INIT_CWD, the directory the user typed the command in.
  env: { ...process.env, INIT_CWD: process.env.INIT_CWD || process.cwd() },
});
// Ctrl-C reaches the CLI (it stops the dashboard cleanly); this process ends as the CLI did.
const forward = (signal) => cli.kill(signal);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, forward);
cli.on('exit', (code, signal) => {
  if (signal === null) process.exit(code ?? 1);
  process.removeListener(signal, forward);
  process.kill(process.pid, signal);
});
