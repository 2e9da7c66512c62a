/**
 * Theory of operation: the RFC 9110 / RFC 9112 character classes as 256-entry lookup tables,
 * indexed by a byte or by a `charCodeAt` of a latin1-decoded string (both are 0–255), plus the
 * few grammar checks built on them. Everything that decides "is this octet allowed here" goes
 * through these tables, so the reader and the writer agree on the grammar by construction.
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
