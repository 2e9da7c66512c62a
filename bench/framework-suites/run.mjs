#!/usr/bin/env node
/**
 * The judge: a framework's own test suite run twice, once on node:http (the baseline) and once
 * with `http.createServer` swapped for @tether/server by preload.mjs, and the two compared.
 *
 *   node bench/framework-suites/run.mjs prepare <express|fastify|koa> <dest> --git-dir <bare repo> [--ref <ref>]
 *   node bench/framework-suites/run.mjs <express|fastify|koa> <checkout> [options]
 *
 * `prepare` extracts one commit of a framework's repository (a bare clone or the mirror the
 * search tool's `fetch` makes) into <dest>, installs its dev dependencies with npm (registry
 * only, no install scripts) and runs the framework's own build where its tests need one (Koa's
 * ESM wrapper). No framework code ever enters this repository.
 *
 * A run goes file by file, one process per file, one at a time (the machine is shared): every
 * test file of the suite for Express (mocha, as its `test` script: test/ and test/acceptance/)
 * and Koa (node:test, as its `test` script: __tests__/), and for Fastify the files that listen
 * on a socket (see SUITES.fastify.select). Results are
 * machine-read (mocha's JSON reporter; a JSON-lines node:test reporter) and keyed by file and
 * full test name. Each file is bounded: the frameworks' own per-test timeouts (mocha 2 s, borp's
 * 30 s; Koa sets none, so it gets borp's), and a hard limit per file after which its process
 * group is killed; a mocha file that has written its results but does not exit is killed after
 * a short grace and said to hang.
 *
 * The suites bind wildcard addresses (`app.listen()`, `host: '0.0.0.0'`), so each file runs in
 * a fresh network namespace holding only loopback (`unshare --net`); without one the run stops
 * unless `--host-network` is given.
 *
 * The tether side loads a copy of packages/server and packages/protocol (package.json + dist)
 * taken when the run starts, so a rebuild in the working tree during a run changes nothing;
 * `--tether-entry` points at another build's dist/index.js instead.
 *
 * Invariants: the baseline and the tether run use the same files, commands and environment but
 * for `TETHER_SUITE_SERVER`; a test counts as passed on a side only if that side reported it
 * passed (a test that never reported — its file crashed, hung or a hook failed — is not).
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

import { summary } from './node-test-reporter.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PRELOAD = path.join(HERE, 'preload.mjs');
const NODE_TEST_REPORTER = path.join(HERE, 'node-test-reporter.mjs');
const REPO = path.resolve(HERE, '../..');

/** Grace after a mocha file wrote its results before it is killed as hanging (handles left open). */
const HANG_GRACE_MS = 2_000;
/** Between SIGTERM and SIGKILL of a file's process group. */
const KILL_GRACE_MS = 3_000;
/** Failures listed in full; the rest only counted (all are in summary.json). */
const LIST_LIMIT = 400;

/**
 * @typedef {{ file: string, name: string, status: 'pass' | 'fail' | 'skip', error: string }} TestResult
 * @typedef {{ file: string, outcome: string, ms: number, tests: TestResult[], notes: string[] }} FileRun
 */

/** What differs between the suites: the files, the command for one file, and how its results read. */
const SUITES = {
  express: {
    ref: 'v5.2.1',
    fileTimeoutS: 60,
    selection: 'every file of its `test` script: mocha test/ test/acceptance/ (*.js, not recursive)',
    /** @param {string} root */
    select(root) {
      return ['test', 'test/acceptance'].flatMap((dir) =>
        readdirSync(path.join(root, dir), { withFileTypes: true })
          .filter((e) => e.isFile() && e.name.endsWith('.js'))
          .map((e) => `${dir}/${e.name}`),
      ).sort();
    },
    /** @param {string} root @param {string} file @param {string} out */
    command(root, file, out) {
      // As package.json's "test" script, reporter aside; one file per process.
      return [
        path.join(root, 'node_modules/mocha/bin/mocha.js'),
        '--require', 'test/support/env', '--check-leaks',
        '--reporter', 'json', '--reporter-option', `output=${out}`, file,
      ];
    },
    finishedMarker: true,
    parse: parseMocha,
  },
  fastify: {
    ref: 'v5.12.1',
    fileTimeoutS: 120,
    selection:
      'test/**/*.test.{js,mjs} whose text calls `.listen(` or `.server.address(`, less test/http2/, ' +
      'test/https/ (their servers come from node:http2 / node:https, which are not swapped), ' +
      'test/types/ and test/bundler/ (not node:test files)',
    /** @param {string} root @param {{ all: boolean }} opts */
    select(root, opts) {
      const skipped = /^test\/(types|bundler|http2|https)\//;
      const listens = /\.listen\(|\.server\.address\(/;
      return walk(root, 'test')
        .filter((f) => /\.test\.m?js$/.test(f) && !skipped.test(f))
        .filter((f) => opts.all || listens.test(readFileSync(path.join(root, f), 'utf8')))
        .sort();
    },
    /** @param {string} _root @param {string} file @param {string} out */
    command(_root, file, out) {
      // borp's defaults: node:test, 30 s per test.
      return nodeTestCommand(file, out);
    },
    finishedMarker: false,
    parse: parseNodeTest,
  },
  koa: {
    ref: 'v3.2.0',
    fileTimeoutS: 60,
    selection: 'every file its `test` script (`node --test`) finds: __tests__/**/*.test.js',
    /** @param {string} root */
    select(root) {
      return walk(root, '__tests__').filter((f) => f.endsWith('.test.js')).sort();
    },
    /** @param {string} _root @param {string} file @param {string} out */
    command(_root, file, out) {
      // As `node --test`; its script sets no per-test timeout, so borp's 30 s bounds a hung test
      // (on Node 20 that limit also ends the file: tests not yet reported are lost).
      return nodeTestCommand(file, out);
    },
    /** `npm ci` would run its `prepare` script: the ESM wrapper that `import('koa')` loads. */
    build: ['npm', ['run', 'build']],
    finishedMarker: false,
    parse: parseNodeTest,
  },
};

/** One node:test file with the JSON-lines reporter, 30 s per test. @param {string} file @param {string} out */
function nodeTestCommand(file, out) {
  return [
    '--test', `--test-reporter=${NODE_TEST_REPORTER}`, `--test-reporter-destination=${out}`,
    '--test-timeout=30000', file,
  ];
}

/** @param {string} root @param {string} dir @returns {string[]} paths relative to root */
function walk(root, dir) {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : walk(root, rel);
    return e.isFile() ? [rel] : [];
  });
}

/** @param {unknown} text */
function firstLine(text) {
  return summary(String(text ?? ''));
}

/**
 * mocha's JSON: passes, failures (hook failures among them), pending. A test after a failed
 * hook never reports; the hook's failure is kept as a note for it.
 * @param {string} out @param {string} file @returns {{ tests: TestResult[], notes: string[] } | null}
 */
function parseMocha(out, file) {
  if (!existsSync(out)) return null;
  /** @type {{ passes: any[], failures: any[], pending: any[] }} */
  const json = JSON.parse(readFileSync(out, 'utf8'));
  /** @type {TestResult[]} */
  const tests = [];
  const notes = [];
  for (const t of json.passes) tests.push({ file, name: t.fullTitle, status: 'pass', error: '' });
  for (const t of json.pending) tests.push({ file, name: t.fullTitle, status: 'skip', error: '' });
  for (const t of json.failures) {
    const error = firstLine(t.err?.message ?? t.err?.stack);
    if (/"(before|after) (each|all)" hook/.test(t.title)) notes.push(`hook failed: ${t.fullTitle}: ${error}`);
    else tests.push({ file, name: t.fullTitle, status: 'fail', error });
  }
  return { tests, notes };
}

/**
 * node-test-reporter.mjs's lines, post-order: a test's subtests come just before it, so the
 * trailing entries deeper than it are its descendants. A parent that failed only because a
 * subtest did counts as passed itself (the subtest carries the failure). A failure named by the
 * file itself (the file crashed or timed out outside any test) is a note, not a test.
 * @param {string} out @param {string} file @returns {{ tests: TestResult[], notes: string[] } | null}
 */
function parseNodeTest(out, file) {
  if (!existsSync(out)) return null;
  /** @type {{ nesting: number, path: string[], line: any }[]} */
  const open = [];
  /** @type {typeof open} */
  const done = [];
  for (const text of readFileSync(out, 'utf8').split('\n')) {
    if (text.trim() === '') continue;
    let line;
    try {
      line = JSON.parse(text);
    } catch {
      continue; // a line cut by a kill
    }
    const entry = { nesting: line.nesting, path: [line.name], line };
    while (open.length > 0 && open[open.length - 1].nesting > line.nesting) {
      const child = open.pop();
      child.path.unshift(line.name);
      done.push(child);
    }
    open.push(entry);
  }
  done.push(...open);
  /** @type {TestResult[]} */
  const tests = [];
  const notes = [];
  for (const { path: names, line } of done) {
    if (line.nesting === 0 && line.file && (line.name === line.file || path.isAbsolute(line.name))) {
      if (line.status === 'fail') notes.push(`file failed: ${line.error}`);
      continue;
    }
    let status = line.status === 'todo' ? 'skip' : line.status;
    if (status === 'fail' && line.failureType === 'subtestsFailed') status = 'pass';
    tests.push({ file, name: names.join(' > '), status, error: line.error ?? '' });
  }
  return { tests, notes };
}

/**
 * A copy of this repository's server and protocol builds, laid out so that the server's
 * `@tether/protocol` import finds the copied protocol. Returns the entry and what it was built from.
 * @param {string} dest
 */
function snapshotTether(dest) {
  const entry = path.join(dest, 'server/dist/index.js');
  rmSync(dest, { recursive: true, force: true });
  for (const pkg of ['server', 'protocol']) {
    const from = path.join(REPO, 'packages', pkg);
    if (!existsSync(path.join(from, 'dist/index.js'))) usage(`${from}/dist is missing: run \`pnpm build\` first`);
    cpSync(path.join(from, 'package.json'), path.join(dest, pkg, 'package.json'));
    cpSync(path.join(from, 'dist'), path.join(dest, pkg, 'dist'), { recursive: true });
  }
  mkdirSync(path.join(dest, 'server/node_modules/@tether'), { recursive: true });
  symlinkSync('../../../protocol', path.join(dest, 'server/node_modules/@tether/protocol'), 'dir');
  const git = (...args) => spawnSync('git', ['-C', REPO, ...args], { encoding: 'utf8' }).stdout.trim();
  const dirty = git('status', '--porcelain', '--', 'packages/server/src', 'packages/protocol/src') !== '';
  const built = statSync(path.join(REPO, 'packages/server/dist/index.js')).mtime.toISOString();
  return { entry, from: `${git('log', '-1', '--format=%h %s')}${dirty ? ' (+ uncommitted changes in src)' : ''}; dist built ${built}` };
}

/** `unshare --net` with loopback up, if this machine allows it. */
function netnsPrefix() {
  const wrap = ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh'];
  const probe = spawnSync(wrap[0], [...wrap.slice(1), 'true'], { stdio: 'ignore' });
  return probe.status === 0 ? wrap : null;
}

/**
 * One file on one server: its own process group, killed at the time limit.
 * @returns {Promise<FileRun>}
 */
async function runFile({ suite, root, file, server, dir, fileTimeoutS, prefix, serverLog, tetherEntry }) {
  const slug = file.replace(/[^A-Za-z0-9._-]+/g, '_');
  const out = path.join(dir, `${slug}.out`);
  const log = path.join(dir, `${slug}.log`);
  rmSync(out, { force: true });
  const argv = [...prefix, process.execPath, ...suite.command(root, file, out)];
  const env = {
    ...process.env,
    TETHER_SUITE_SERVER: server,
    TETHER_SUITE_LOG: serverLog,
    TETHER_SERVER_ENTRY: tetherEntry,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${PRELOAD}`.trim(),
  };
  const fd = openSync(log, 'w');
  const started = Date.now();
  const child = spawn(argv[0], argv.slice(1), { cwd: root, env, detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const notes = [];
  let outcome = 'exited';
  const kill = (why) => {
    if (outcome !== 'exited') return;
    outcome = why;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, KILL_GRACE_MS).unref();
  };
  const limit = setTimeout(() => kill('timed out'), fileTimeoutS * 1000);
  let finishedAt = 0;
  const poll = suite.finishedMarker
    ? setInterval(() => {
      if (!finishedAt && existsSync(out)) finishedAt = Date.now();
      if (finishedAt && Date.now() - finishedAt > HANG_GRACE_MS) kill('hung after its tests');
    }, 250)
    : null;
  const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(limit);
  if (poll) clearInterval(poll);
  // Whatever it left running in its group goes too.
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  if (outcome === 'exited') outcome = signal ? `killed by ${signal}` : `exit ${code}`;
  const parsed = suite.parse(out, file);
  if (!parsed) notes.push(`no results (${outcome}); last output: ${lastLine(log)}`);
  else if (outcome === 'timed out') notes.push(`timed out (${fileTimeoutS} s limit)`);
  else if (outcome === 'hung after its tests') notes.push(`did not exit within ${HANG_GRACE_MS / 1000} s of its results (handles left open)`);
  return { file, outcome, ms: Date.now() - started, tests: parsed?.tests ?? [], notes: [...notes, ...(parsed?.notes ?? [])] };
}

/** @param {string} log */
function lastLine(log) {
  const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l.trim() !== '');
  return firstLine(lines.find((l) => /Error|error:/.test(l)) ?? lines.at(-1) ?? '(none)');
}

/** @param {FileRun[]} runs @returns {Map<string, TestResult>} */
function byKey(runs) {
  const map = new Map();
  for (const run of runs) {
    for (const t of run.tests) {
      let key = `${t.file} :: ${t.name}`;
      for (let n = 2; map.has(key); n++) key = `${t.file} :: ${t.name} #${n}`;
      map.set(key, t);
    }
  }
  return map;
}

/** @param {Map<string, TestResult>} m @param {TestResult['status']} status */
function count(m, status) {
  let n = 0;
  for (const t of m.values()) if (t.status === status) n++;
  return n;
}

function usage(message) {
  if (message) console.error(message);
  console.error(`usage:
  node bench/framework-suites/run.mjs prepare <express|fastify|koa> <dest> --git-dir <bare repo> [--ref <ref>]
  node bench/framework-suites/run.mjs <express|fastify|koa> <checkout> [--servers node,tether]
      [--only <regex>] [--all] [--file-timeout <s>] [--out <dir>] [--host-network] [--tether-entry <dist/index.js>]`);
  process.exit(2);
}

/** @param {string} cmd @param {string[]} args @param {import('node:child_process').SpawnSyncOptions} [opts] */
function must(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) usage(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

function prepare(name, dest, values) {
  const suite = SUITES[name];
  if (!values['git-dir']) usage('prepare needs --git-dir (a bare clone, or the path fetch returned)');
  const ref = values.ref ?? suite.ref;
  mkdirSync(dest, { recursive: true });
  const tar = path.join(tmpdir(), `tether-suite-${name}-${process.pid}.tar`);
  must('git', ['--git-dir', values['git-dir'], 'archive', '--output', tar, ref]);
  must('tar', ['-x', '-f', tar, '-C', dest]);
  rmSync(tar, { force: true });
  install(dest, suite);
  console.log(`${name} ${ref} ready in ${dest}`);
}

/** Dev dependencies, then the suite's own build if it has one. @param {string} root @param {{ build?: [string, string[]] }} suite */
function install(root, suite) {
  must('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: root });
  if (suite.build) must(suite.build[0], suite.build[1], { cwd: root });
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'git-dir': { type: 'string' },
      ref: { type: 'string' },
      servers: { type: 'string', default: 'node,tether' },
      only: { type: 'string' },
      all: { type: 'boolean', default: false },
      'file-timeout': { type: 'string' },
      out: { type: 'string' },
      'host-network': { type: 'boolean', default: false },
      'tether-entry': { type: 'string' },
    },
  });
  if (positionals[0] === 'prepare') {
    const [, name, dest] = positionals;
    if (!(name in SUITES) || !dest) usage();
    prepare(name, path.resolve(dest), values);
    return;
  }
  const [name, checkout] = positionals;
  if (!(name in SUITES) || !checkout) usage();
  const suite = SUITES[name];
  const root = path.resolve(checkout);
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  if (pkg.name !== name) usage(`${root} holds ${pkg.name}, not ${name}`);
  if (!existsSync(path.join(root, 'node_modules'))) install(root, suite);
  const servers = values.servers.split(',');
  for (const s of servers) if (s !== 'node' && s !== 'tether') usage(`unknown server ${s}`);
  const fileTimeoutS = Number(values['file-timeout'] ?? suite.fileTimeoutS);

  let prefix = [];
  if (!values['host-network']) {
    prefix = netnsPrefix();
    if (!prefix) usage('cannot make a network namespace (unshare --net): the suites bind wildcard addresses; rerun as root or pass --host-network');
  }

  let files = suite.select(root, { all: values.all });
  if (values.only) files = files.filter((f) => new RegExp(values.only).test(f));
  const outDir = path.resolve(values.out ?? path.join(tmpdir(), 'tether-suites', 'results', name));
  console.log(`${name} ${pkg.version} at ${root}: ${files.length} files — ${values.all ? 'all test files' : suite.selection}`);
  console.log(`logs and results: ${outDir}`);
  let tether = { entry: path.resolve(values['tether-entry'] ?? ''), from: `${values['tether-entry']} (given)` };
  if (!values['tether-entry']) tether = snapshotTether(path.join(outDir, 'tether-build'));
  if (!existsSync(tether.entry)) usage(`${tether.entry} is missing`);
  if (servers.includes('tether')) console.log(`tether: ${tether.from}`);

  /** @type {Record<string, FileRun[]>} */
  const runs = {};
  /** @type {Record<string, number>} */
  const created = {};
  for (const server of servers) {
    const dir = path.join(outDir, server);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const serverLog = path.join(dir, 'servers-created.txt');
    writeFileSync(serverLog, '');
    const started = Date.now();
    runs[server] = [];
    for (const [i, file] of files.entries()) {
      const run = await runFile({ suite, root, file, server, dir, fileTimeoutS, prefix, serverLog, tetherEntry: tether.entry });
      runs[server].push(run);
      const pass = run.tests.filter((t) => t.status === 'pass').length;
      const fail = run.tests.filter((t) => t.status === 'fail').length;
      const flag = run.notes.length > 0 ? `  [${run.notes[0]}]` : '';
      process.stderr.write(`[${server} ${i + 1}/${files.length}] ${file}: ${pass} passed, ${fail} failed, ${(run.ms / 1000).toFixed(1)} s${flag}\n`);
    }
    created[server] = readFileSync(serverLog, 'utf8').split('\n').filter(Boolean).length;
    console.log(`${server}: ${files.length} files in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }

  report({ name, version: pkg.version, root, files, servers, runs, created, outDir, tether: tether.from });
}

function report({ name, version, root, files, servers, runs, created, outDir, tether }) {
  const maps = Object.fromEntries(servers.map((s) => [s, byKey(runs[s])]));
  console.log(`\n## ${name} ${version}: ${files.length} files${servers.includes('tether') ? `; tether: ${tether}` : ''}`);
  console.log(`| | ${servers.join(' | ')} |`);
  console.log(`| --- |${servers.map(() => ' ---: |').join('')}`);
  for (const status of ['pass', 'fail', 'skip']) {
    console.log(`| ${status === 'pass' ? 'passed' : status === 'fail' ? 'failed' : 'skipped'} | ${servers.map((s) => count(maps[s], status)).join(' | ')} |`);
  }
  console.log(`| files with notes (crash, hang, timeout, hook) | ${servers.map((s) => runs[s].filter((r) => r.notes.length > 0).length).join(' | ')} |`);
  console.log(`| servers made by tether's createServer | ${servers.map((s) => created[s]).join(' | ')} |`);

  const summary = { suite: name, version, root, tether, files, servers, created, runs };
  if (maps.node && maps.tether) {
    const nodePassed = [...maps.node].filter(([, t]) => t.status === 'pass');
    /** @type {{ key: string, error: string }[]} */
    const regressions = [];
    for (const [key, t] of nodePassed) {
      const other = maps.tether.get(key);
      if (other?.status === 'pass') continue;
      const run = runs.tether.find((r) => r.file === t.file);
      const why = other?.status === 'fail' ? other.error
        : other?.status === 'skip' ? '(skipped on tether)'
        : `(did not report: ${run?.notes[0] ?? 'missing'})`;
      regressions.push({ key, error: why });
    }
    const both = nodePassed.length - regressions.length;
    const gained = [...maps.tether].filter(([k, t]) => t.status === 'pass' && maps.node.get(k)?.status !== 'pass');
    const pct = nodePassed.length === 0 ? 0 : (100 * both) / nodePassed.length;
    console.log(`\npassed on node: ${nodePassed.length}; of those, passed on tether: ${both} (${pct.toFixed(1)}%); ` +
      `pass on node, not on tether: ${regressions.length}; pass on tether only: ${gained.length}`);
    if (regressions.length > 0) {
      console.log('\n### pass on node, not on tether');
      for (const r of regressions.slice(0, LIST_LIMIT)) console.log(`- ${r.key}\n    ${r.error}`);
      if (regressions.length > LIST_LIMIT) console.log(`… ${regressions.length - LIST_LIMIT} more in summary.json`);
    }
    if (gained.length > 0) {
      console.log('\n### pass on tether only');
      for (const [key] of gained) console.log(`- ${key}`);
    }
    Object.assign(summary, { nodePassed: nodePassed.length, tetherPassedOfThose: both, regressions, gained: gained.map(([k]) => k) });
  }
  for (const s of servers) {
    const noted = runs[s].filter((r) => r.notes.length > 0);
    if (noted.length === 0) continue;
    console.log(`\n### files with notes on ${s}`);
    // Files that share their only note are listed on one line.
    /** @type {Map<string, string[]>} */
    const shared = new Map();
    for (const r of noted) {
      if (r.notes.length === 1) shared.set(r.notes[0], [...(shared.get(r.notes[0]) ?? []), r.file]);
      else console.log(`- ${r.file} (${r.outcome}): ${r.notes.slice(0, 3).join('; ')}`);
    }
    for (const [note, list] of shared) {
      console.log(list.length === 1 ? `- ${list[0]}: ${note}` : `- ${list.length} files: ${note}: ${list.join(', ')}`);
    }
  }
  writeFileSync(path.join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`\nsummary: ${path.join(outDir, 'summary.json')}`);
}

await main();
