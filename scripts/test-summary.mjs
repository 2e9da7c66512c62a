// Prints one closing line for the whole test run from every package's vitest JSON report,
// e.g. "vitest: 412 passed, 0 failed, 0 skipped". Exits non-zero when a test failed or none ran.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
// Every package, app and testing workspace, and packaging/ (the consumers of the packed packages).
const projects = ['packaging'];
for (const group of ['packages', 'apps', 'testing']) {
  if (existsSync(group)) projects.push(...readdirSync(group).map((name) => join(group, name)));
}
for (const project of projects) {
  const file = join(project, '.vitest', 'results.json');
  if (!existsSync(file)) continue;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
}
console.log(`vitest: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failed > 0 || passed === 0) process.exitCode = 1;
