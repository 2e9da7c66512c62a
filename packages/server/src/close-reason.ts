/** Why a connection closed (counted in the server's stats, `closedBy`). */
export type CloseReason =
  | 'client-close'
  | 'connection-close'
  | 'keep-alive-timeout'
  | 'keep-alive-max'
  | 'parse-error'
  | 'timeout'
  | 'shutdown'
  | 'forced'
  | 'upgrade'
  | 'error';

/** Every {@link CloseReason}, in the order stats list them. */
export const CLOSE_REASONS: readonly CloseReason[] = ['client-close', 'connection-close', 'keep-alive-timeout', 'keep-alive-max', 'parse-error', 'timeout', 'shutdown', 'forced', 'upgrade', 'error'];
