/**
 * @tether/demo: CLI and dashboard that compare HTTP/1.1 connection strategies
 * end to end and run the chapter's experiments.
 *
 * Placeholder. This package has no implementation yet; the work is tracked
 * in the project's issues. The one export below keeps the build and
 * the test run honest until the real entry point
 * replaces this file.
 */

/** The npm name of this package. Placeholder export until the implementation lands. */
export const PACKAGE = '@tether/demo';
