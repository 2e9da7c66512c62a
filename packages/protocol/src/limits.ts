/**
 * Theory of operation: the parser's limits, as named constants with where each default comes
 * from, and the options object that overrides them. Every limit is checked while bytes arrive,
 * so a peer can never make the parser buffer more than the limit before it is refused.
 */

import { LocalProtocolError } from './errors.js';

/**
 * Most bytes a message head (start line + header section, or a trailer section) may take.
 * 16 KiB: Node's `--max-http-header-size` default, and what nginx allows with its default
 * `large_client_header_buffers 4 8k` for a request line plus a few large fields.
 */
export const DEFAULT_MAX_HEAD_BYTES = 16 * 1024;

/**
 * Most field lines in one head or trailer section. 100: browsers send about 20; the bound keeps
 * per-message work small (Node allows 2000, which only an attacker needs).
 */
export const DEFAULT_MAX_HEADER_COUNT = 100;

/**
 * Longest request-target, answered with 414 when exceeded. 8 KiB: RFC 9112 §3 recommends
 * supporting request-lines of at least 8000 octets.
 */
export const DEFAULT_MAX_TARGET_LENGTH = 8 * 1024;

/**
 * Most hex digits of a chunk-size, leading zeros included. 16 digits cover every size up to
 * 2^53 (JavaScript's safe integers); sizes above that are refused separately.
 */
export const DEFAULT_MAX_CHUNK_SIZE_DIGITS = 16;

/**
 * Most bytes of chunk extensions per message. 16 KiB, like Node's limit added after
 * CVE-2024-22019 (chunk extensions were otherwise an unbounded read).
 */
export const DEFAULT_MAX_CHUNK_EXTENSION_BYTES = 16 * 1024;

/**
 * Largest body, by Content-Length or by the sum of chunk sizes: 1 GiB. Bodies are streamed as
 * data events and never buffered by the parser; the bound only rejects absurd declared lengths
 * early with 413. Servers that buffer bodies should set a much smaller limit.
 */
export const DEFAULT_MAX_BODY_SIZE = 1024 * 1024 * 1024;

/** Parser limits and leniencies. Every field is optional; the defaults are the constants above. */
export interface ParserOptions {
  /** Most bytes of a head or trailer section. Default {@link DEFAULT_MAX_HEAD_BYTES}. */
  readonly maxHeadBytes?: number;
  /** Most field lines per section. Default {@link DEFAULT_MAX_HEADER_COUNT}. */
  readonly maxHeaderCount?: number;
  /** Longest request-target (414 above it). Default {@link DEFAULT_MAX_TARGET_LENGTH}. */
  readonly maxTargetLength?: number;
  /** Most hex digits in a chunk-size. Default {@link DEFAULT_MAX_CHUNK_SIZE_DIGITS}. */
  readonly maxChunkSizeDigits?: number;
  /** Most chunk-extension bytes per message. Default {@link DEFAULT_MAX_CHUNK_EXTENSION_BYTES}. */
  readonly maxChunkExtensionBytes?: number;
  /** Largest body (413 above it); `Infinity` for no limit. Default {@link DEFAULT_MAX_BODY_SIZE}. */
  readonly maxBodySize?: number;
  /**
   * Accept a bare LF as a line terminator in the head and in chunk framing (RFC 9112 §2.2 MAY).
   * Default `false`: a bare LF is refused with `H1_BARE_LF`, because parsers that disagree on
   * line endings are the raw material of request smuggling.
   */
  readonly allowBareLf?: boolean;
  /**
   * Refuse an HTTP/1.1 request without a Host field with `H1_MISSING_HOST` (400), as RFC 9112
   * §3.2 requires. Default `true`; `false` accepts it (node:http's `requireHostHeader: false`, for
   * clients on a private link that omit it). Only a missing Host is forgiven: more than one Host,
   * or an invalid one, is refused either way.
   */
  readonly requireHostHeader?: boolean;
}

/** {@link ParserOptions} with every default filled in. */
export type ResolvedLimits = Required<ParserOptions>;

/** A count limit: a positive safe integer (or `Infinity`, where `unbounded` allows it); else throw. */
function limit(name: keyof ParserOptions, value: number | undefined, fallback: number, unbounded = false): number {
  if (value === undefined) return fallback;
  const ok = (Number.isSafeInteger(value) && value > 0) || (unbounded && value === Number.POSITIVE_INFINITY);
  if (!ok) {
    const what = unbounded ? 'a positive safe integer or Infinity' : 'a positive safe integer';
    throw new LocalProtocolError('H1_INVALID_OPTION', `${name} must be ${what}, got ${typeof value === 'number' ? value : JSON.stringify(value)}`);
  }
  return value;
}

/** A boolean option, or its default when `undefined`; else throw. */
function flag(name: keyof ParserOptions, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new LocalProtocolError('H1_INVALID_OPTION', `${name} must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Fill in the defaults of {@link ParserOptions}, validating what is given: every limit must be a
 * positive safe integer (`maxBodySize` may also be `Infinity`, for no limit), `allowBareLf` and
 * `requireHostHeader` booleans; `undefined` means the default. Throws {@link LocalProtocolError} `H1_INVALID_OPTION`
 * otherwise: a zero, negative, fractional or NaN limit would silently refuse everything or
 * nothing.
 */
export function resolveLimits(options: ParserOptions = {}): ResolvedLimits {
  return {
    maxHeadBytes: limit('maxHeadBytes', options.maxHeadBytes, DEFAULT_MAX_HEAD_BYTES),
    maxHeaderCount: limit('maxHeaderCount', options.maxHeaderCount, DEFAULT_MAX_HEADER_COUNT),
    maxTargetLength: limit('maxTargetLength', options.maxTargetLength, DEFAULT_MAX_TARGET_LENGTH),
    maxChunkSizeDigits: limit('maxChunkSizeDigits', options.maxChunkSizeDigits, DEFAULT_MAX_CHUNK_SIZE_DIGITS),
    maxChunkExtensionBytes: limit('maxChunkExtensionBytes', options.maxChunkExtensionBytes, DEFAULT_MAX_CHUNK_EXTENSION_BYTES),
    maxBodySize: limit('maxBodySize', options.maxBodySize, DEFAULT_MAX_BODY_SIZE, true),
    allowBareLf: flag('allowBareLf', options.allowBareLf, false),
    requireHostHeader: flag('requireHostHeader', options.requireHostHeader, true),
  };
}
