/**
 * @tether/client: per-origin pool of persistent HTTP/1.1 connections with pipelining, driven by @tether/protocol.
 *
 * Placeholder. This package has no implementation yet; the work is tracked
 * in the project's issues. The one export below keeps the build, the
 * published shape and the test run honest until the real entry point
 * replaces this file.
 */

/** The npm name of this package. Placeholder export until the implementation lands. */
export const PACKAGE = '@tether/client';
