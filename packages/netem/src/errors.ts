/**
 * Theory of operation: the one catalog of errors @tether/netem raises itself. Invalid options
 * and toxics are `RangeError`s naming the option (they are caller mistakes, like a bad
 * argument to a built-in); a call on a link or forward that is already closed is a
 * {@link NetemError} with a stable `code`. Socket errors of relayed connections are never
 * thrown: they become resets of the other side, as they would on a real network.
 */

/** The codes of {@link NetemError}. */
export const NETEM_ERRORS = {
  NETEM_LINK_CLOSED: 'the link is closed',
  NETEM_FORWARD_CLOSED: 'the forward is closed',
} as const;

/** A stable error code. */
export type NetemErrorCode = keyof typeof NETEM_ERRORS;

/** A call that cannot be honoured in the link's current state. */
export class NetemError extends Error {
  /** `'NetemError'`. */
  override readonly name = 'NetemError';
  /** Stable code, see {@link NETEM_ERRORS}. */
  readonly code: NetemErrorCode;

  constructor(code: NetemErrorCode, message: string = NETEM_ERRORS[code]) {
    super(message);
    this.code = code;
  }
}
