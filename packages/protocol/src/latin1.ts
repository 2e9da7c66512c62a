/**
 * Theory of operation: HTTP/1.1 heads are octets, not UTF-8 (RFC 9110 §5.5: field values are
 * historically ISO-8859-1, obs-text is opaque). We map octet n ⇄ UTF-16 code unit n, which is
 * lossless in both directions. (TextDecoder's 'latin1' label means windows-1252 in the Encoding
 * Standard and remaps 0x80–0x9F, so it cannot be used.)
 *
 * Decoding uses the host's native `latin1Slice` when the input has one (Node and Bun buffers,
 * found by duck typing, no import) and a portable loop elsewhere.
 */

interface Latin1Sliceable {
  latin1Slice(start: number, end: number): string;
}

function hasLatin1Slice(bytes: Uint8Array): bytes is Uint8Array & Latin1Sliceable {
  return typeof (bytes as Partial<Latin1Sliceable>).latin1Slice === 'function';
}

// String.fromCharCode.apply takes its arguments on the stack: keep each batch well below
// engines' argument limits (~64K in V8 for some paths).
const DECODE_BATCH = 4096;

/** Decode `bytes[start, end)` octet-for-character. */
export function decodeLatin1(bytes: Uint8Array, start: number, end: number): string {
  if (hasLatin1Slice(bytes)) return bytes.latin1Slice(start, end);
  let out = '';
  for (let i = start; i < end; i += DECODE_BATCH) {
    const stop = Math.min(end, i + DECODE_BATCH);
    out += String.fromCharCode.apply(null, bytes.subarray(i, stop) as unknown as number[]);
  }
  return out;
}

/**
 * Write `s` into `target` at `offset`, one octet per character, and return the new offset.
 * The caller has validated that every character is below 256.
 */
export function writeLatin1(s: string, target: Uint8Array, offset: number): number {
  for (let i = 0; i < s.length; i++) target[offset++] = s.charCodeAt(i);
  return offset;
}

/** Encode `s` octet-for-character into a new array (every character must be below 256). */
export function encodeLatin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  writeLatin1(s, out, 0);
  return out;
}

/** An empty byte array, shared. */
export const EMPTY_BYTES = new Uint8Array(0);

/** Concatenate byte arrays into one (returns the only element when there is just one). */
export function concatBytes(parts: readonly Uint8Array[], alloc?: (size: number) => Uint8Array): Uint8Array {
  if (parts.length === 1) return parts[0] ?? EMPTY_BYTES;
  let total = 0;
  for (const p of parts) total += p.length;
  const out = alloc === undefined ? new Uint8Array(total) : alloc(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const NOT_ASCII_TEXT = /[\u0080-\uffff]/;

/** The number of bytes `s` takes in UTF-8 (a lone surrogate counts as U+FFFD, 3 bytes, as encoders write it). */
export function utf8Length(s: string): number {
  if (!NOT_ASCII_TEXT.test(s)) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
