/**
 * Theory of operation: the common shape of the chapter's experiments ("labs"). A lab is an async
 * function that builds everything it measures on real sockets bound to 127.0.0.1 — servers,
 * clients, proxies — measures one effect, tears everything down (also when it fails), and returns
 * a {@link LabResult}: what it measured as aligned label/value lines for the CLI, two lines of
 * explanation, whether the effect the lab exists to show was observed, and its figures as typed
 * `data` for tests and the dashboard.
 *
 * Invariants every lab keeps: only 127.0.0.1; every loop bounded in count and in time; only the
 * sockets and servers it created are ended; `quick` shrinks counts (tests) without changing what
 * is shown.
 */

/** One measured figure: a label, its formatted value, and the number behind it when there is one. */
export interface Measurement {
  readonly label: string;
  readonly value: string;
  /** The figure as a number (ms, a count, a ratio), for charts and assertions. */
  readonly raw?: number;
}

/** Options every lab takes. */
export interface LabOptions {
  /** Smaller counts and shorter timeouts (tests): the same effect, measured on fewer samples. */
  readonly quick?: boolean;
  /** Progress lines while the lab runs (the CLI prints them dimmed); default: none. */
  readonly log?: (line: string) => void;
}

/** What a lab measured. `D` is the lab's own typed figures. */
export interface LabResult<D = unknown> {
  /** The lab's name as typed on the command line (`pnpm demo lab <name>`). */
  readonly name: string;
  readonly title: string;
  readonly measured: readonly Measurement[];
  /** Two lines: what happened, and why it matters for HTTP connection management. */
  readonly explanation: readonly [string, string];
  /** Whether the effect the lab demonstrates was observed on this machine. */
  readonly ok: boolean;
  /** The lab's figures, typed, for tests and the dashboard. */
  readonly data: D;
}

/** A lab: run it, get what it measured. */
export type Lab<D = unknown> = (options?: LabOptions) => Promise<LabResult<D>>;

/** A lab's result in one row of the `lab all` summary: the figure it exists for, and what was expected. */
export interface Headline {
  /** The measured figure(s), short (`44.0 ms vs 0.28 ms`). */
  readonly measured: string;
  /** What the lab expects to see, in the same terms (`≥ 20 ms vs < 10 ms`). */
  readonly expected: string;
}

/** A lab with its name and title, as listed by the CLI. */
export interface LabDefinition<D = unknown> {
  readonly name: string;
  readonly title: string;
  /** What the lab shows, in a few words (the `lab all` summary's second column). */
  readonly shows: string;
  readonly run: Lab<D>;
  /** The summary row's figures, from the lab's data (pure). */
  readonly headline: (data: D) => Headline;
}

/** The log used when the caller gives none. */
export function noLog(): void {
  // Labs log progress only when asked.
}
