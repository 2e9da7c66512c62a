/**
 * Header utilities: the Connection field, Keep-Alive parameters, hop-by-hop stripping, the
 * `Fields` list and the method properties that connection management depends on.
 */

import { describe, expect, it } from 'vitest';
import {
  DEFAULT_FOLD_RULES,
  Fields,
  HOP_BY_HOP_FIELDS,
  formatKeepAlive,
  hopByHopNames,
  isHopByHop,
  isIdempotentMethod,
  isSafeMethod,
  mayPipelineMethod,
  mayRetryMethod,
  parseConnection,
  parseKeepAlive,
  stripHopByHop,
} from './index.js';
import type { FoldRule, KeepAlive, KeepAliveInit, ListParam } from './index.js';

describe('parseConnection', () => {
  const cases: [label: string, input: string | readonly string[] | undefined, tokens: string[], invalid: string[]][] = [
    ['no field', undefined, [], []],
    ['empty value', '', [], []],
    ['single token', 'close', ['close'], []],
    ['case-insensitive, lower-cased', 'Keep-Alive, UPGRADE', ['keep-alive', 'upgrade'], []],
    ['comma list without spaces', 'close,x-foo', ['close', 'x-foo'], []],
    ['repeated field lines', ['keep-alive', 'X-Foo', 'x-bar'], ['keep-alive', 'x-foo', 'x-bar'], []],
    ['empty list elements are skipped (RFC 9110 §5.6.1)', ', ,  close ,,\t, ', ['close'], []],
    ['duplicates removed, first position kept', 'close, X-A, CLOSE, x-a', ['close', 'x-a'], []],
    ['an element with a space is not a token', 'foo bar, close', ['close'], ['foo bar']],
    ['a parameter is not a connection option', 'a=b, close', ['close'], ['a=b']],
    ['a quoted string is not a token', '"close"', [], ['"close"']],
    ['non-tchar delimiter', 'x;y, keep-alive', ['keep-alive'], ['x;y']],
    ['obs-text is not a token', 'clo\u00e9se', [], ['clo\u00e9se']],
  ];

  it.each(cases)('%s', (_label, input, tokens, invalid) => {
    const parsed = parseConnection(input);
    expect(parsed.tokens).toEqual(tokens);
    expect(parsed.invalid).toEqual(invalid);
    expect(parsed.close).toBe(tokens.includes('close'));
    expect(parsed.keepAlive).toBe(tokens.includes('keep-alive'));
    expect(parsed.upgrade).toBe(tokens.includes('upgrade'));
  });

  it('sees a close token in any of several field lines', () => {
    expect(parseConnection(['keep-alive', 'Close']).close).toBe(true);
    expect(parseConnection(['keep-alive', 'closed']).close).toBe(false);
  });
});

describe('parseKeepAlive', () => {
  const cases: [label: string, input: string | readonly string[] | undefined, expected: Partial<KeepAlive>, problems: RegExp[]][] = [
    ['no field', undefined, {}, []],
    ['timeout and max', 'timeout=5, max=100', { timeout: 5, max: 100 }, []],
    ['no spaces', 'timeout=5,max=100', { timeout: 5, max: 100 }, []],
    ['names are case-insensitive', 'Timeout=7, MAX=3', { timeout: 7, max: 3 }, []],
    ['across field lines', ['timeout=5', 'max=7'], { timeout: 5, max: 7 }, []],
    ['zero is a valid max', 'max=0', { max: 0 }, []],
    ['quoted number is accepted', 'timeout="5"', { timeout: 5 }, []],
    ['empty elements skipped', ', timeout=5 ,, ', { timeout: 5 }, []],
    ['timeout=abc', 'timeout=abc', {}, [/timeout.*"abc"/]],
    ['max=-1', 'max=-1', {}, [/max.*"-1"/]],
    ['max=1.5', 'max=1.5', {}, [/max.*"1\.5"/]],
    ['timeout without value', 'timeout', {}, [/timeout.*no value/]],
    ['number too large to count exactly', 'timeout=99999999999999999', {}, [/timeout/]],
    ['duplicate: first good value kept, second reported', 'timeout=5, timeout=10', { timeout: 5 }, [/timeout.*more than once/]],
    ['duplicate max across lines', ['max=3', 'max=4'], { max: 3 }, [/max.*more than once/]],
    ['bad value then good value: good one kept', 'timeout=abc, timeout=10', { timeout: 10 }, [/timeout.*"abc"/]],
    ['missing comma between params', 'timeout=5 max=3', {}, [/malformed.*timeout=5 max=3/]],
    ['empty name', '=5, max=2', { max: 2 }, [/malformed.*=5/]],
    ['unterminated quoted string', 'timeout=5, x="open', { timeout: 5 }, [/malformed/]],
    ['each problem reported once, in order', 'timeout=x, max=y, timeout=1, timeout=2', { timeout: 1 }, [/timeout.*"x"/, /max.*"y"/, /timeout.*more than once/]],
  ];

  it.each(cases)('%s', (_label, input, expected, problems) => {
    const parsed = parseKeepAlive(input);
    expect(parsed.timeout).toBe(expected.timeout);
    expect(parsed.max).toBe(expected.max);
    expect(parsed.problems).toHaveLength(problems.length);
    problems.forEach((re, i) => expect(parsed.problems[i]).toMatch(re));
  });

  const extensionCases: [label: string, input: string, extensions: ListParam[]][] = [
    ['extension without value', 'timeout=5, foo', [['foo', null]]],
    ['extension with token value, name lower-cased', 'Foo=Bar, max=1', [['foo', 'Bar']]],
    ['quoted value with a comma inside the quotes', 'x="a, b", max=2', [['x', 'a, b']]],
    ['quoted value with escapes', String.raw`y="q\"uote\\d"`, [['y', 'q"uote\\d']]],
    ['empty quoted value', 'e=""', [['e', '']]],
    ['order of extensions kept', 'b=2, a, c="3"', [['b', '2'], ['a', null], ['c', '3']]],
  ];

  it.each(extensionCases)('%s', (_label, input, extensions) => {
    const parsed = parseKeepAlive(input);
    expect(parsed.extensions).toEqual(extensions);
    expect(parsed.problems).toEqual([]);
  });

  it('does not split a quoted comma into two elements', () => {
    const parsed = parseKeepAlive('x="timeout=1, max=2"');
    expect(parsed.timeout).toBeUndefined();
    expect(parsed.max).toBeUndefined();
    expect(parsed.extensions).toEqual([['x', 'timeout=1, max=2']]);
  });
});

describe('formatKeepAlive', () => {
  const cases: [label: string, init: KeepAliveInit, text: string][] = [
    ['timeout and max', { timeout: 5, max: 100 }, 'timeout=5, max=100'],
    ['timeout always before max', { max: 1, timeout: 2 }, 'timeout=2, max=1'],
    ['zero values', { timeout: 0, max: 0 }, 'timeout=0, max=0'],
    ['nothing', {}, ''],
    ['extensions', { timeout: 1, extensions: [['foo', null], ['bar', 'baz']] }, 'timeout=1, foo, bar=baz'],
    ['values that are not tokens are quoted and escaped', { extensions: [['a', 'x y'], ['b', 'q"\\'], ['c', 'a,b'], ['d', '']] }, String.raw`a="x y", b="q\"\\", c="a,b", d=""`],
  ];

  it.each(cases)('%s', (_label, init, text) => {
    expect(formatKeepAlive(init)).toBe(text);
  });

  it.each(cases)('round trip format → parse: %s', (_label, init) => {
    const parsed = parseKeepAlive(formatKeepAlive(init));
    expect(parsed.problems).toEqual([]);
    expect(parsed.timeout).toBe(init.timeout);
    expect(parsed.max).toBe(init.max);
    expect(parsed.extensions).toEqual(init.extensions ?? []);
  });

  const bad: [label: string, init: KeepAliveInit][] = [
    ['negative timeout', { timeout: -1 }],
    ['fractional max', { max: 1.5 }],
    ['NaN', { timeout: Number.NaN }],
    ['unsafe integer', { max: 2 ** 53 }],
    ['extension name not a token', { extensions: [['bad name', null]] }],
    ['empty extension name', { extensions: [['', '1']] }],
  ];

  it.each(bad)('throws RangeError on %s', (_label, init) => {
    expect(() => formatKeepAlive(init)).toThrow(RangeError);
  });
});

describe('hop-by-hop fields', () => {
  it('HOP_BY_HOP_FIELDS is exactly the fixed set of RFC 9110 §7.6.1 and the chapter', () => {
    expect([...HOP_BY_HOP_FIELDS].sort()).toEqual(
      [
        'connection',
        'keep-alive',
        'proxy-authenticate',
        'proxy-authorization',
        'proxy-connection',
        'te',
        'trailer',
        'transfer-encoding',
        'upgrade',
      ].sort(),
    );
  });

  it('stripHopByHop removes the fixed set plus fields named in Connection, any case, and keeps the order of the rest', () => {
    const fields = new Fields([
      'Host', 'a',
      'Connection', 'X-Foo, close',
      'x-FOO', '1',
      'Keep-Alive', 'timeout=5',
      'X-Bar', '2',
      'TE', 'trailers',
      'Accept', '*/*',
      'X-Foo', '3',
      'UPGRADE', 'h2c',
      'Proxy-Connection', 'keep-alive',
      'Transfer-Encoding', 'chunked',
      'Trailer', 'x',
      'Proxy-Authenticate', 'b',
      'proxy-authorization', 'c',
      'connection', 'X-Baz',
      'x-baz', '4',
      'Cache-Control', 'no-cache',
    ]);
    expect(stripHopByHop(fields).raw).toEqual(['Host', 'a', 'X-Bar', '2', 'Accept', '*/*', 'Cache-Control', 'no-cache']);
    expect([...hopByHopNames(fields)]).toEqual(expect.arrayContaining(['x-foo', 'x-baz', 'connection', 'te']));
  });

  it('a field named in Connection is only hop-by-hop for that message', () => {
    const fields = new Fields(['A', '1', 'connection', 'A', 'B', '2']);
    expect(stripHopByHop(fields).raw).toEqual(['B', '2']);
    expect(isHopByHop('a', fields)).toBe(true);
    expect(isHopByHop('A')).toBe(false);
    expect(isHopByHop('b', fields)).toBe(false);
  });

  it.each([...HOP_BY_HOP_FIELDS].flatMap((name) => [name, name.toUpperCase()]))('isHopByHop(%s) without Connection', (name) => {
    expect(isHopByHop(name)).toBe(true);
  });

  it('end-to-end fields are not hop-by-hop', () => {
    for (const name of ['host', 'content-length', 'content-type', 'set-cookie', 'authorization', 'trailers']) {
      expect(isHopByHop(name)).toBe(false);
    }
  });

  it('returns the same list when nothing is hop-by-hop', () => {
    const fields = new Fields(['Host', 'a', 'Accept', '*/*']);
    expect(stripHopByHop(fields).raw).toEqual(['Host', 'a', 'Accept', '*/*']);
  });

  it('invalid Connection elements name nothing', () => {
    const fields = new Fields(['Connection', 'x y', 'x', '1', 'y', '2']);
    expect(stripHopByHop(fields).raw).toEqual(['x', '1', 'y', '2']);
  });
});

describe('Fields', () => {
  const f = new Fields(['Vary', 'a', 'Host', 'h', 'vary', 'b', 'Set-Cookie', 'x=1', 'set-cookie', 'y=2; Path=/', 'Empty', '']);

  it('get joins repeated lines with ", " (RFC 9110 §5.3), any case', () => {
    expect(f.get('VARY')).toBe('a, b');
    expect(f.get('host')).toBe('h');
    expect(f.get('empty')).toBe('');
    expect(f.get('missing')).toBeUndefined();
  });

  it('getAll keeps each line, in order', () => {
    expect(f.getAll('vary')).toEqual(['a', 'b']);
    expect(f.getAll('SET-COOKIE')).toEqual(['x=1', 'y=2; Path=/']);
    expect(f.getAll('missing')).toEqual([]);
  });

  it('has, size, names', () => {
    expect(f.has('Set-cookie')).toBe(true);
    expect(f.has('empty')).toBe(true);
    expect(f.has('cookie')).toBe(false);
    expect(f.size).toBe(6);
    expect(f.names()).toEqual(['vary', 'host', 'set-cookie', 'empty']);
  });

  it('toObject: lower-case names, joined values, set-cookie as an array', () => {
    expect(f.toObject()).toEqual({ vary: 'a, b', host: 'h', 'set-cookie': ['x=1', 'y=2; Path=/'], empty: '' });
    expect(new Fields(['Set-Cookie', 'only=1']).toObject()).toEqual({ 'set-cookie': ['only=1'] });
  });

  it('toObject with rules: joined with a separator, an array, or the first line only', () => {
    const lines = new Fields(['Cookie', 'a=1', 'Age', '1', 'cookie', 'b=2', 'AGE', '2', 'X', '1', 'x', '2', 'Set-Cookie', 's=1']);
    const rules = new Map<string, FoldRule>([['cookie', { join: '; ' }], ['age', 'first'], ['x', 'array']]);
    // set-cookie is not in these rules: joined like any other name.
    expect(lines.toObject(rules)).toEqual({ cookie: 'a=1; b=2', age: '1', x: ['1', '2'], 'set-cookie': 's=1' });
    expect(new Fields(['Age', '7']).toObject(rules)).toEqual({ age: '7' });
  });

  it('toObject looks at the first `lines` field lines only', () => {
    const lines = new Fields(['A', '1', 'B', '2', 'a', '3']);
    expect(lines.toObject(DEFAULT_FOLD_RULES, 2)).toEqual({ a: '1', b: '2' });
    expect(lines.toObject(DEFAULT_FOLD_RULES, 3)).toEqual({ a: '1, 3', b: '2' });
    expect(lines.toObject(DEFAULT_FOLD_RULES, 0)).toEqual({});
    // The whole index made for other lookups is not cut by a limited call.
    expect(lines.get('a')).toBe('1, 3');
  });

  it('toObject reads a name such as constructor as a field name, never as a rule', () => {
    expect(new Fields(['Constructor', 'a', 'constructor', 'b']).toObject()).toEqual({ constructor: 'a, b' });
  });

  it('iterates [name, value] pairs in wire order with original case', () => {
    expect([...new Fields(['A', '1', 'b', '2'])]).toEqual([['A', '1'], ['b', '2']]);
  });

  const fromCases: [label: string, init: Parameters<typeof Fields.from>[0], raw: string[]][] = [
    ['undefined', undefined, []],
    ['empty array', [], []],
    ['flat raw array', ['A', '1', 'B', '2'], ['A', '1', 'B', '2']],
    ['pairs', [['A', '1'], ['a', '2']], ['A', '1', 'a', '2']],
    ['Map', new Map([['X', 'y']]), ['X', 'y']],
    ['record with numbers, arrays and undefined', { a: '1', 'Set-Cookie': ['x=1', 'y=2'], n: 5, u: undefined }, ['a', '1', 'Set-Cookie', 'x=1', 'Set-Cookie', 'y=2', 'n', '5']],
    ['record with an empty array', { a: [] }, []],
  ];

  it.each(fromCases)('from(%s)', (_label, init, raw) => {
    expect(Fields.from(init).raw).toEqual(raw);
  });

  it('from(Fields) returns the same object', () => {
    expect(Fields.from(f)).toBe(f);
  });

  it('with / without return new lists and leave the original alone', () => {
    const base = new Fields(['A', '1', 'B', '2']);
    const added = base.with('C', '3');
    const removed = added.without(new Set(['a']));
    expect(base.raw).toEqual(['A', '1', 'B', '2']);
    expect(added.raw).toEqual(['A', '1', 'B', '2', 'C', '3']);
    expect(removed.raw).toEqual(['B', '2', 'C', '3']);
    expect(base.without(new Set(['zzz']))).toBe(base);
  });

  it('lookups after with() see the new field', () => {
    const base = new Fields(['A', '1']);
    expect(base.has('b')).toBe(false);
    expect(base.with('B', '2').get('b')).toBe('2');
  });
});

describe('method properties (RFC 9110 §9.2, RFC 9112 §9.3)', () => {
  const table: [method: string, safe: boolean, idempotent: boolean][] = [
    ['GET', true, true],
    ['HEAD', true, true],
    ['OPTIONS', true, true],
    ['TRACE', true, true],
    ['PUT', false, true],
    ['DELETE', false, true],
    ['POST', false, false],
    ['PATCH', false, false],
    ['CONNECT', false, false],
    ['PURGE', false, false],
    ['get', false, false],
    ['Put', false, false],
    ['', false, false],
  ];

  it.each(table)('%s: safe=%s idempotent=%s', (method, safe, idempotent) => {
    expect(isSafeMethod(method)).toBe(safe);
    expect(isIdempotentMethod(method)).toBe(idempotent);
    expect(mayPipelineMethod(method)).toBe(idempotent);
    expect(mayRetryMethod(method)).toBe(idempotent);
  });

  it('every safe method is idempotent', () => {
    for (const [method, safe] of table) if (safe) expect(isIdempotentMethod(method)).toBe(true);
  });
});
