/**
 * Theory of operation: a reader for RFC 9110 §5.6.1 comma-separated lists whose elements are
 * `token [ "=" ( token / quoted-string ) ]` (Connection is the degenerate case without "=",
 * Keep-Alive and chunk extensions use the parameter form). Empty elements are skipped as §5.6.1
 * requires; an element that does not fit the grammar is reported with its text, never dropped
 * silently and never thrown.
 */

import { QDTEXT, TCHAR, isOws } from './abnf.js';

/** One list element: a lower-cased name and its value (unquoted), or `null` when it had none. */
export type ListParam = readonly [name: string, value: string | null];

/** Elements that parsed, and the raw text of those that did not. */
export interface ParsedList {
  readonly params: readonly ListParam[];
  readonly invalid: readonly string[];
}

function skipOws(s: string, i: number): number {
  while (i < s.length && isOws(s.charCodeAt(i))) i++;
  return i;
}

function scanToken(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TCHAR[c] === 0) break;
    i++;
  }
  return i;
}

/** Read a quoted-string starting at the opening quote; return [unescaped value, index after it] or null. */
export function readQuotedString(s: string, i: number): [string, number] | null {
  let out = '';
  i++; // opening DQUOTE
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return [out, i + 1];
    if (c === 0x5c) {
      // RFC 9110 §5.6.4: quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      const next = s.charCodeAt(i + 1);
      if (Number.isNaN(next) || next > 0xff || (next < 0x20 && next !== 0x09) || next === 0x7f) return null;
      out += s[i + 1];
      i += 2;
      continue;
    }
    if (c > 0xff || QDTEXT[c] === 0) return null;
    out += s[i];
    i++;
  }
  return null;
}

/** Parse one or more field values as a list of `token [= value]` elements. */
export function parseParamList(values: string | readonly string[] | undefined): ParsedList {
  const params: ListParam[] = [];
  const invalid: string[] = [];
  if (values === undefined) return { params, invalid };
  for (const s of typeof values === 'string' ? [values] : values) {
    let i = 0;
    while (i < s.length) {
      i = skipOws(s, i);
      if (s.charCodeAt(i) === 0x2c) {
        i++;
        continue;
      }
      if (i >= s.length) break;
      const start = i;
      const nameEnd = scanToken(s, i);
      let ok = nameEnd > start;
      let value: string | null = null;
      i = skipOws(s, nameEnd);
      if (ok && s.charCodeAt(i) === 0x3d) {
        i = skipOws(s, i + 1);
        if (s.charCodeAt(i) === 0x22) {
          const quoted = readQuotedString(s, i);
          if (quoted === null) ok = false;
          else [value, i] = quoted;
        } else {
          const valueEnd = scanToken(s, i);
          if (valueEnd === i) ok = false;
          value = s.slice(i, valueEnd);
          i = valueEnd;
        }
        i = skipOws(s, i);
      }
      if (ok && i < s.length && s.charCodeAt(i) !== 0x2c) ok = false;
      if (ok) {
        params.push([s.slice(start, nameEnd).toLowerCase(), value]);
      } else {
        // Skip to the next comma outside a quoted-string and report the element's text.
        let inQuote = false;
        while (i < s.length) {
          const c = s.charCodeAt(i);
          if (c === 0x22) inQuote = !inQuote;
          else if (c === 0x5c && inQuote) i++;
          else if (c === 0x2c && !inQuote) break;
          i++;
        }
        invalid.push(s.slice(start, i).trim());
      }
    }
  }
  return { params, invalid };
}
