/**
 * Theory of operation: how `req.headers` folds the lines of a repeated field name, as node:http's
 * `message.headers` does (node's documentation of `message.headers`, and what node 20 does):
 *
 * - the names in {@link NODE_FIRST_LINE_ONLY} keep their first line; the repeats are discarded;
 * - `set-cookie` is always an array; `cookie` lines are joined with "; ";
 * - every other name is joined with ", " (RFC 9110 §5.3).
 *
 * With `joinDuplicateHeaders` (node ≥ 18.14) the first rule is dropped: those names are joined
 * with ", " too. With `maxHeadersCount` only the first N field lines are read. The rules are data
 * handed to `Fields.toObject` of @tether/protocol.
 */

import { DEFAULT_FOLD_RULES } from '@tether/protocol';
import type { FoldRule, FoldRules } from '@tether/protocol';

/**
 * Field names whose repeats node:http discards in `message.headers`, keeping the first line:
 * fields defined to hold one value. (`content-length` and `host` are listed for completeness:
 * differing repeats of either are refused by the parser before a request is made.)
 */
export const NODE_FIRST_LINE_ONLY = [
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
] as const;

const COOKIE: readonly [string, FoldRule] = ['cookie', { join: '; ' }];

/** node:http's default rules for `message.headers`. */
export const NODE_HEADER_RULES: FoldRules = new Map<string, FoldRule>([
  ...DEFAULT_FOLD_RULES,
  COOKIE,
  ...NODE_FIRST_LINE_ONLY.map((name): [string, FoldRule] => [name, 'first']),
]);

/** node:http's rules with `joinDuplicateHeaders: true`. */
export const NODE_JOINED_HEADER_RULES: FoldRules = new Map<string, FoldRule>([...DEFAULT_FOLD_RULES, COOKIE]);

/**
 * node's default `maxHeadersCount`: 2000 field lines (node's parser keeps `maxHeaderPairs` 4000
 * strings, name and value each).
 */
export const NODE_MAX_HEADERS_COUNT = 2000;

/** What `req.headers` is made of: the fold rules, and how many field lines are read (`Infinity`: all). */
export interface HeaderView {
  readonly rules: FoldRules;
  readonly lines: number;
}

/**
 * The view for node's `maxHeadersCount` (`undefined` or `null`: 2000; 0: every line) and
 * `joinDuplicateHeaders`.
 *
 * @throws RangeError when `maxHeadersCount` is not a non-negative integer, or
 *   `joinDuplicateHeaders` not a boolean.
 */
export function headerView(maxHeadersCount: number | null | undefined, joinDuplicateHeaders: boolean | undefined): HeaderView {
  const max = maxHeadersCount ?? NODE_MAX_HEADERS_COUNT;
  if (!(Number.isSafeInteger(max) && max >= 0) && max !== Number.POSITIVE_INFINITY) {
    throw new RangeError(`maxHeadersCount must be an integer ≥ 0 or Infinity, got ${String(maxHeadersCount)}`);
  }
  if (joinDuplicateHeaders !== undefined && typeof joinDuplicateHeaders !== 'boolean') {
    throw new RangeError(`joinDuplicateHeaders must be a boolean, got ${String(joinDuplicateHeaders)}`);
  }
  return { rules: joinDuplicateHeaders === true ? NODE_JOINED_HEADER_RULES : NODE_HEADER_RULES, lines: max === 0 ? Number.POSITIVE_INFINITY : max };
}
