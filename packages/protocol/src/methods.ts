/**
 * Theory of operation: method properties from RFC 9110 §9.2 that connection management depends
 * on. Only idempotent requests may be pipelined behind others or re-sent automatically after a
 * connection drops (RFC 9112 §9.3.1–9.3.2): repeating them has the same effect as sending once.
 * Unknown methods are treated as neither safe nor idempotent.
 */

const SAFE: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** RFC 9110 §9.2.1: GET, HEAD, OPTIONS and TRACE are safe (read-only). Method names are case-sensitive. */
export function isSafeMethod(method: string): boolean {
  return SAFE.has(method);
}

/** RFC 9110 §9.2.2: the safe methods plus PUT and DELETE are idempotent. POST, PATCH, CONNECT are not. */
export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/**
 * RFC 9112 §9.3.2: a client may pipeline a request with this method behind others still in
 * flight only when it is idempotent (a non-idempotent request waits until the connection is
 * quiet, and nothing is pipelined behind it until its response arrives). CONNECT never is.
 */
export function mayPipelineMethod(method: string): boolean {
  return isIdempotentMethod(method);
}

/** RFC 9112 §9.3.1: a request with this method may be re-sent automatically after a dropped connection. */
export function mayRetryMethod(method: string): boolean {
  return isIdempotentMethod(method);
}
