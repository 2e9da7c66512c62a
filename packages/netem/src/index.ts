/**
 * @tether/netem: userland link emulator, a TCP relay that adds RTT, handshake cost, shared bandwidth and slow start.
 *
 * Placeholder. This package has no implementation yet; the work is tracked
 * in the project's issues. The one export below keeps the build, the
 * published shape and the test run honest until the real entry point
 * replaces this file.
 */

/** The npm name of this package. Placeholder export until the implementation lands. */
export const PACKAGE = '@tether/netem';
