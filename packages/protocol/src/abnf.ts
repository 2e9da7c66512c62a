/**
 * Theory of operation: the RFC 9110 / RFC 9112 character classes as 256-entry lookup tables,
 * indexed by a byte or by a `charCodeAt` of a latin1-decoded string (both are 0–255), plus the
 * few grammar checks built on them (and the request-target form rule of RFC 9112 §3.2).
 * Everything that decides "is this octet (or this target) allowed here" is defined here, so the
 * reader and the writer agree on the grammar by construction. Where the writer wants a regular
 * expression instead of a table walk, the regex sits next to its table and a test checks that
 * the two agree on every octet.
 */

function table(predicate: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = predicate(c) ? 1 : 0;
  return t;
}

const TCHAR_SPECIALS = "!#$%&'*+-.^_`|~";

/** RFC 9110 §5.6.2: tchar = "!" / "#" / … / DIGIT / ALPHA. A token is 1*tchar. */
export const TCHAR = table(
  (c) =>
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    TCHAR_SPECIALS.includes(String.fromCharCode(c)),
);

/**
 * RFC 9110 §5.5: field-value octets: field-vchar (VCHAR / obs-text) plus SP and HTAB inside the
 * value. NUL, CR, LF and the other controls (and DEL) are refused.
 */
export const FIELD_VALUE_CHAR = table((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f));

/**
 * RFC 9112 §3.2 request-target octets: VCHAR only (the forms are built from URI characters; we
 * accept any visible ASCII and let the application interpret it). No whitespace, no controls,
 * no octets above 0x7E.
 */
export const TARGET_CHAR = table((c) => c > 0x20 && c < 0x7f);

/** RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ). */
export const REASON_CHAR = FIELD_VALUE_CHAR;

/** Hex digit values, or 0xff for a non-hex octet (RFC 9112 §7.1 chunk-size = 1*HEXDIG). */
export const HEX_VALUE = (() => {
  const t = new Uint8Array(256).fill(0xff);
  for (let c = 0; c < 10; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
})();

/** Octets of the qdtext of a quoted-string, RFC 9110 §5.6.4 (HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text). */
export const QDTEXT = table((c) => c === 0x09 || c === 0x20 || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c !== 0x7f));

// The same grammar as regular expressions, for the writers: a regular expression walks a whole
// string faster than a charCodeAt loop over a table in V8. Each regex and its table above encode
// the same character class; review-fixes.test.ts checks that they agree on all 256 octets (and that
// nothing above 0xFF is accepted), so changing one without the other fails the tests.

/** A whole string that is an RFC 9110 §5.6.2 token (1*tchar): the regex form of {@link TCHAR}. */
export const TOKEN_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Matches the first character that is not a field-value octet (RFC 9110 §5.5: HTAB, SP, VCHAR,
 * obs-text): the regex form of {@link FIELD_VALUE_CHAR}, negated. Any character above 0xFF matches.
 */
export const NOT_FIELD_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/** RFC 5234 Appendix B.1: 1*DIGIT, the whole string (Content-Length, Keep-Alive timeout/max). */
export const DIGITS = /^[0-9]+$/;

/**
 * Most decimal digits a count may have and still be exact: 15 digits stay below 2^53
 * (Number.MAX_SAFE_INTEGER has 16), so any 15-digit value is a safe integer.
 */
export const MAX_SAFE_DIGITS = 15;

/** `true` when `s` is a non-empty RFC 9110 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TCHAR[c] === 0) return false;
  }
  return true;
}

/** `true` when `s` is a valid field value: field-vchar, SP and HTAB only, no leading or trailing whitespace. */
export function isFieldValue(s: string): boolean {
  const n = s.length;
  if (n === 0) return true;
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(n - 1);
  // RFC 9110 §5.5: field-value = *field-content; field-content starts and ends with field-vchar.
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || FIELD_VALUE_CHAR[c] === 0) return false;
  }
  return true;
}

/** `true` when every character of `s` is allowed in a request-target. */
export function isRequestTarget(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TARGET_CHAR[c] === 0) return false;
  }
  return true;
}

// RFC 9112 §3.2.2 absolute-form starts with a URI scheme (RFC 3986 §3.1) and its colon;
// §3.2.3 authority-form is uri-host ":" port (an IP-literal or a reg-name, then digits).
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const AUTHORITY_FORM = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+):[0-9]+$/;

/**
 * Why `target` is not a request-target `method` may use, or `null` when it is (RFC 9112 §3.2):
 * CONNECT takes only the authority-form `host:port` (§3.2.3, RFC 9110 §9.3.6); the asterisk-form
 * `*` is only for OPTIONS (§3.2.4); every other request uses the origin-form (`/…`, §3.2.1) or
 * the absolute-form (`scheme:…`, §3.2.2). Checks the form only: the octets are checked by
 * {@link isRequestTarget}. Pure; shared by the head parser and the request writer, so tether
 * never sends a target it would refuse to receive.
 */
export function requestTargetProblem(method: string, target: string): string | null {
  if (method === 'CONNECT') {
    return AUTHORITY_FORM.test(target) ? null : 'CONNECT needs an authority-form target (host:port)';
  }
  if (target.charCodeAt(0) === 0x2f /* '/' */) return null;
  if (target === '*') return method === 'OPTIONS' ? null : 'the asterisk-form target is only for OPTIONS';
  if (ABSOLUTE_FORM.test(target)) return null;
  return `invalid request-target ${JSON.stringify(target.slice(0, 40))}`;
}

/** `true` when every character of `s` is allowed in a reason-phrase (which may be empty). */
export function isReasonPhrase(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || REASON_CHAR[c] === 0) return false;
  }
  return true;
}

/** RFC 9110 §5.6.3: OWS = *( SP / HTAB ). */
export function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * `s` without leading and trailing OWS (SP / HTAB). Never `String#trim`: it also strips U+00A0,
 * which in a latin1-decoded head is the obs-text octet 0xA0, and controls such as VT and FF.
 */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isOws(s.charCodeAt(start))) start++;
  while (end > start && isOws(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/**
 * Whether `text` holds `lower` (lower-case ASCII) at `start`, in any ASCII case: a field name
 * compared without making a lower-cased copy of it.
 */
export function lowerEqualsAt(text: string, start: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    let c = text.charCodeAt(start + k);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20; // ASCII upper → lower case
    if (c !== lower.charCodeAt(k)) return false;
  }
  return true;
}
