/**
 * A node:test reporter (`node --test --test-reporter=<this file>`) that writes one JSON line per
 * finished test, as it finishes, so a run killed at its time limit still leaves what it had.
 *
 * node:test reports a test after its subtests (post-order) and gives only its own name and
 * nesting depth; run.mjs rebuilds full names from that order. Each line:
 * `{ name, nesting, file, status: 'pass' | 'fail' | 'skip' | 'todo', error?, failureType? }`,
 * `error` being the first line of the failure's message.
 */

/**
 * @param {{ message?: unknown, cause?: { message?: unknown } } | undefined} error
 * @returns {string}
 */
function firstLine(error) {
  if (!error) return '';
  // node:test wraps a test's own error as the `cause` of an ERR_TEST_FAILURE.
  const inner = error.cause && typeof error.cause === 'object' ? error.cause : error;
  return summary(String(inner.message ?? inner));
}

/**
 * The first non-blank line of a message, and the next ones while a line ends in ':'
 * (`Expected values to be strictly equal:` is followed by `500 !== 404`).
 * @param {string} text
 */
export function summary(text) {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  let out = lines[0] ?? '';
  for (let i = 1; i < lines.length && out.endsWith(':') && i < 4; i++) out += ` ${lines[i]}`;
  return out.slice(0, 300);
}

/** @param {AsyncIterable<{ type: string, data: any }>} source */
export default async function* jsonLines(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { data } = event;
    let status = event.type === 'test:pass' ? 'pass' : 'fail';
    if (data.skip !== undefined) status = 'skip';
    else if (data.todo !== undefined) status = 'todo';
    const line = { name: data.name, nesting: data.nesting, file: data.file ?? null, status };
    if (event.type === 'test:fail') {
      line.error = firstLine(data.details?.error);
      line.failureType = data.details?.error?.failureType ?? null;
    }
    yield `${JSON.stringify(line)}\n`;
  }
}
