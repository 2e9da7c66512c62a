// Long-running mutation fuzzer for @tether/protocol (the built package: run `pnpm build` first).
// The fuzzer itself lives in fuzz-core.mjs, shared with test/fuzz.test.ts.
//
//   node scripts/fuzz.mjs [iterations] [seed]     e.g. node scripts/fuzz.mjs 1000000 42
//   node scripts/fuzz.mjs --seconds 60 [--seed S]  run for a while instead of a count
//   node scripts/fuzz.mjs --seed S --replay I      re-run iteration I of seed S and show it
//   node scripts/fuzz.mjs --hex 474554...           feed one input (hex), whole, to both roles
//
// Prints progress every few seconds, then a table of outcomes (per role: accepted, or which
// RemoteProtocolError code), and every failure with its input as hex. Exits 1 on a failure.

import { boundedBufferingChecks, describeFailure, exercise, fromHex, fuzzCase, runFuzz, toHex } from './fuzz-core.mjs';

/** @type {import('./fuzz-core.mjs').Protocol} */
let protocol;
try {
  protocol = await import('../dist/index.js');
} catch (err) {
  console.error(`cannot load ../dist/index.js (run \`pnpm --filter @tether/protocol build\` first): ${String(err)}`);
  process.exit(2);
}

/** @param {string[]} argv */
function parseArgs(argv) {
  /** @type {{ iterations: number | undefined; seed: number | undefined; seconds: number | undefined; replay: number | undefined; hex: string | undefined }} */
  const args = { iterations: undefined, seed: undefined, seconds: undefined, replay: undefined, hex: undefined };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--iterations') args.iterations = Number(value());
    else if (a === '--seed') args.seed = Number(value());
    else if (a === '--seconds') args.seconds = Number(value());
    else if (a === '--replay') args.replay = Number(value());
    else if (a === '--hex') args.hex = value();
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/fuzz.mjs [iterations] [seed] [--seconds N] [--replay I] [--hex BYTES]');
      process.exit(0);
    } else positional.push(a);
  }
  if (positional[0] !== undefined) args.iterations = Number(positional[0]);
  if (positional[1] !== undefined) args.seed = Number(positional[1]);
  for (const [k, v] of Object.entries(args)) {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`--${k}: not a number`);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const seed = (args.seed ?? Math.floor(Math.random() * 0x100000000)) >>> 0;

if (args.hex !== undefined) {
  const input = fromHex(args.hex);
  for (const role of /** @type {const} */ (['server', 'client'])) {
    console.log(role, exercise(protocol, role, [input], true));
  }
  process.exit(0);
}

if (args.replay !== undefined) {
  const c = fuzzCase(seed, args.replay);
  console.log(`seed ${seed} iteration ${args.replay}`);
  console.log(`mutations: ${c.mutations.join('; ')}`);
  console.log(`chunks: ${c.parts.map((p) => p.length).join(',')}${c.eof ? ' + EOF' : ''}; client sent ${c.pipelined} GET(s)`);
  console.log(`input (${c.input.length} bytes): ${toHex(c.input)}`);
  console.log(`as text: ${JSON.stringify(String.fromCharCode(...c.input.subarray(0, 2000)))}`);
  for (const role of /** @type {const} */ (['server', 'client'])) {
    console.log(role, exercise(protocol, role, c.parts, c.eof, c.pipelined));
  }
  process.exit(0);
}

console.log('bounded buffering (1 MiB floods):');
let failed = false;
for (const check of boundedBufferingChecks(protocol)) {
  const ok = check.outcome === check.expected && check.fed <= check.limit;
  failed ||= !ok;
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.outcome} after ${check.fed} bytes (limit ${check.limit})`);
}

const iterations = args.iterations ?? (args.seconds === undefined ? 100_000 : Number.MAX_SAFE_INTEGER);
const deadlineMs = args.seconds === undefined ? undefined : Date.now() + args.seconds * 1000;
console.log(`fuzzing: seed ${seed}, ${args.seconds === undefined ? `${iterations} iterations` : `${args.seconds} s`}`);

let lastPrint = Date.now();
const started = Date.now();
const report = runFuzz(protocol, {
  seed,
  iterations,
  maxFailures: 20,
  progressEvery: 1000,
  ...(deadlineMs === undefined ? {} : { deadlineMs }),
  onProgress(p) {
    if (Date.now() - lastPrint < 5000) return;
    lastPrint = Date.now();
    const rate = Math.round(p.iteration / (p.elapsedMs / 1000));
    const ok = (p.outcomes.get('server:ok') ?? 0) + (p.outcomes.get('client:ok') ?? 0);
    console.log(`  ${p.iteration} iterations, ${rate}/s, ${(p.bytes / 1e6).toFixed(1)} MB, ${((100 * ok) / (2 * p.iteration)).toFixed(1)}% accepted, ${p.outcomes.size} distinct outcomes, ${p.failures} failures`);
  },
});
const seconds = (Date.now() - started) / 1000;

console.log(`done: ${report.iterations} iterations (${2 * report.iterations} connection runs) in ${seconds.toFixed(1)} s, ${Math.round(report.iterations / seconds)}/s, ${(report.bytes / 1e6).toFixed(1)} MB of input`);
console.log('outcomes (role:outcome count):');
for (const [key, count] of [...report.outcomes].sort((a, b) => b[1] - a[1])) console.log(`  ${key.padEnd(48)} ${count}`);
if (report.failures.length > 0) {
  failed = true;
  console.log(`${report.failures.length} FAILURES:`);
  for (const f of report.failures) console.log(describeFailure(f));
} else {
  console.log('no failures');
}
process.exitCode = failed ? 1 : 0;
