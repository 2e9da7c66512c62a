/**
 * Theory of operation: the Connection header field (RFC 9110 §7.6.1) as data. Tokens are
 * case-insensitive, may come as a comma list and across repeated field lines; each token either
 * is a connection option (`close`, `keep-alive`, `upgrade`) or names a hop-by-hop field.
 */

import { parseParamList } from './list-syntax.js';

/** The parsed Connection field. */
export interface ConnectionTokens {
  /** Every valid token, lower-cased, in order, duplicates removed. */
  readonly tokens: readonly string[];
  /** `close` is present: the sender will close after this exchange (RFC 9112 §9.6). */
  readonly close: boolean;
  /** `keep-alive` is present: the HTTP/1.0 persistence request (RFC 9112 §C.2.2). */
  readonly keepAlive: boolean;
  /** `upgrade` is present (RFC 9110 §7.8). */
  readonly upgrade: boolean;
  /** List elements that are not tokens (reported, never used). */
  readonly invalid: readonly string[];
}

function frozen(tokens: string[]): ConnectionTokens {
  return Object.freeze({
    tokens: Object.freeze(tokens),
    close: tokens.includes('close'),
    keepAlive: tokens.includes('keep-alive'),
    upgrade: tokens.includes('upgrade'),
    invalid: Object.freeze([]),
  });
}

// The answers for the values nearly every message carries, shared (they are immutable).
const NONE = frozen([]);
const KEEP_ALIVE = frozen(['keep-alive']);
const CLOSE = frozen(['close']);

/** Parse the value(s) of Connection into tokens. `undefined` (no field) gives no tokens. */
export function parseConnection(values: string | readonly string[] | undefined): ConnectionTokens {
  if (values === undefined) return NONE;
  const single = typeof values === 'string' ? values : values.length === 1 ? values[0]! : undefined;
  if (single !== undefined && single.length <= 10) {
    const lower = single.toLowerCase();
    if (lower === 'keep-alive') return KEEP_ALIVE;
    if (lower === 'close') return CLOSE;
  }
  const parsed = parseParamList(values);
  const tokens: string[] = [];
  const invalid = [...parsed.invalid];
  for (const [name, value] of parsed.params) {
    if (value !== null) invalid.push(`${name}=${value}`);
    else if (!tokens.includes(name)) tokens.push(name);
  }
  return {
    tokens,
    close: tokens.includes('close'),
    keepAlive: tokens.includes('keep-alive'),
    upgrade: tokens.includes('upgrade'),
    invalid,
  };
}
