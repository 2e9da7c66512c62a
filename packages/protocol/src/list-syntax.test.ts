/** RFC 9110 §5.6.1 lists: elements, invalid elements, and the empty elements a reader skips but counts. */
import { describe, expect, it } from 'vitest';
import { parseParamList } from './list-syntax.js';

describe('parseParamList()', () => {
  it.each<[string, readonly string[], readonly string[], number]>([
    ['one element', ['chunked'], ['chunked'], 0],
    ['OWS around elements', [' a ,\tb '], ['a', 'b'], 0],
    ['a trailing comma', ['chunked,'], ['chunked'], 1],
    ['a trailing comma and OWS', ['chunked , '], ['chunked'], 1],
    ['a leading comma', [',chunked'], ['chunked'], 1],
    ['two commas in a row', ['a,,b'], ['a', 'b'], 1],
    ['commas only', [' , , '], [], 3],
    ['an empty field line', [''], [], 1],
    ['an OWS-only field line, then an element', ['\t', 'chunked'], ['chunked'], 1],
    ['two lines, no empty element', ['a', 'b'], ['a', 'b'], 0],
    ['commas inside a quoted value', ['a=",,", b'], ['a=",,"', 'b'], 0],
    ['a malformed element is invalid, not empty', ['@, b'], ['b'], 0],
  ])('%s', (_name, values, names, empty) => {
    const parsed = parseParamList(values);
    const got = parsed.params.map(([n, v]) => (v === null ? n : `${n}=${JSON.stringify(v)}`));
    expect({ names: got, empty: parsed.empty }).toEqual({ names, empty });
  });
});
