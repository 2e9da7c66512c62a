/** Each example the README shows is the file in examples/, verbatim, and prints what the README says. */
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** An example: its file, how to run it, the lines it logs, and how the README states them. */
interface Example {
  readonly file: string;
  readonly run: () => Promise<unknown>;
  readonly prints: readonly string[];
  /** The README's text that quotes what the example printed; absent where it does not quote it. */
  readonly stated?: (lines: readonly string[]) => string;
}

/** The README's "It prints:" block around `lines`. */
const printsBlock = (lines: readonly string[]): string => ['It prints:', '', '```', ...lines, '```'].join('\n');

const EXAMPLES: readonly Example[] = [
  {
    file: 'examples/hello.ts',
    run: () => import('../examples/hello.js'),
    prints: ['200 timeout=5, max=99 GET /a (0 bytes in)', '200 timeout=5, max=98 GET /b (0 bytes in)', '2 requests on 1 connection; 0 forced'],
  },
  {
    file: 'examples/express.ts',
    run: () => import('../examples/express.js'),
    prints: ['200 timeout=5, max=99 {"got":{"hello":"express"}}'],
    stated: (lines) => `It prints \`${lines[0]}\`.`,
  },
  {
    file: 'examples/fastify.ts',
    run: () => import('../examples/fastify.js'),
    prints: ['200 timeout=5, max=99 {"got":{"hello":"fastify"}}', '1 request served by tether'],
    stated: printsBlock,
  },
  {
    file: 'examples/koa.ts',
    run: () => import('../examples/koa.js'),
    prints: ['200 koa on tether {"path":"/hello"}', 'a=1; path=/; httponly | b=2; path=/; httponly'],
    stated: printsBlock,
  },
];

describe('README', () => {
  // `%s`, not `$file`: the title names the file unquoted.
  it.each(EXAMPLES.map((example) => [example.file, example] as const))('shows %s verbatim, and it prints what the README says', async (file, { run, prints, stated }) => {
    const example = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
    expect(readme).toContain(example.trim());
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.join(' '));
    });
    try {
      await run();
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(prints);
    if (stated !== undefined) expect(readme).toContain(stated(lines));
  });
});
