/**
 * Theory of operation: a reader for RFC 9110 §5.6.1 comma-separated lists whose elements are
 * `token [ "=" ( token / quoted-string ) ]` (Connection is the degenerate case without "=",
 * Keep-Alive and chunk extensions use the parameter form). Empty elements are skipped as §5.6.1
 * requires, and counted, for the one list that must refuse them (Transfer-Encoding, framing.ts);
 * an element that does not fit the grammar is reported with its text, never dropped silently
 * and never thrown.
 */

import { QDTEXT, TCHAR, isOws } from './abnf.js';

/** One list element: a lower-cased name and its value (unquoted), or `null` when it had none. */
export type ListParam = readonly [name: string, value: string | null];

/** Elements that parsed, the raw text of those that did not, and how many were empty. */
export interface ParsedList {
  readonly params: readonly ListParam[];
  readonly invalid: readonly string[];
  /**
   * Empty elements skipped: nothing but OWS before a field line's first comma, between two
   * commas or after its last one, or a whole field line of nothing but OWS (RFC 9110 §5.3: the
   * lines of a field are one list joined by commas, so an empty line is an empty element).
   */
  readonly empty: number;
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
  let empty = 0;
  if (values === undefined) return { params, invalid, empty };
  for (const s of typeof values === 'string' ? [values] : values) {
    let i = 0;
    // An element may start here: at the start of the line and after each comma.
    let open = true;
    while (i < s.length) {
      i = skipOws(s, i);
      if (s.charCodeAt(i) === 0x2c) {
        if (open) empty++;
        open = true;
        i++;
        continue;
      }
      if (i >= s.length) break;
      open = false;
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
    if (open) empty++;
  }
  return { params, invalid, empty };
}
