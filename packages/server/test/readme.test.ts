import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('shows examples/hello.ts verbatim, and it prints what the README says', async () => {
    const example = readFileSync(new URL('../examples/hello.ts', import.meta.url), 'utf8');
    expect(readme).toContain(example.trim());
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.join(' '));
    });
    try {
      await import('../examples/hello.js');
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(['200 timeout=5, max=99 GET /a (0 bytes in)', '200 timeout=5, max=98 GET /b (0 bytes in)', '2 requests on 1 connection; 0 forced']);
  });

  it('shows examples/express.ts verbatim, and it prints what the README says', async () => {
    const example = readFileSync(new URL('../examples/express.ts', import.meta.url), 'utf8');
    expect(readme).toContain(example.trim());
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.join(' '));
    });
    try {
      await import('../examples/express.js');
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(['200 timeout=5, max=99 {"got":{"hello":"express"}}']);
    expect(readme).toContain(`It prints \`${lines[0]}\`.`);
  });

  it('shows examples/fastify.ts verbatim, and it prints what the README says', async () => {
    const example = readFileSync(new URL('../examples/fastify.ts', import.meta.url), 'utf8');
    expect(readme).toContain(example.trim());
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.join(' '));
    });
    try {
      await import('../examples/fastify.js');
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(['200 timeout=5, max=99 {"got":{"hello":"fastify"}}', '1 request served by tether']);
    expect(readme).toContain(['It prints:', '', '```', ...lines, '```'].join('\n'));
  });

  it('shows examples/koa.ts verbatim, and it prints what the README says', async () => {
    const example = readFileSync(new URL('../examples/koa.ts', import.meta.url), 'utf8');
    expect(readme).toContain(example.trim());
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.join(' '));
    });
    try {
      await import('../examples/koa.js');
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(['200 koa on tether {"path":"/hello"}', 'a=1; path=/; httponly | b=2; path=/; httponly']);
    expect(readme).toContain(['It prints:', '', '```', ...lines, '```'].join('\n'));
  });
});
