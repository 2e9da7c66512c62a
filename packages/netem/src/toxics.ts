/**
 * Theory of operation: toxics are faults a test asks the link to inject into its connections,
 * after the model (they act on bytes as they leave the link, at the receiving end):
 *
 * - `reset-after`: after `bytes` bytes have been delivered in `direction`, both ends get a
 *   TCP reset (RST), as when a middlebox or a crashed peer aborts the connection.
 * - `close-after`: after exactly `bytes` bytes the receiver gets a FIN, and so does the sender;
 *   anything sent afterwards is read and dropped (a graceful close in mid-message: a truncated
 *   response).
 * - `stall`: once `afterBytes` bytes have been delivered (0: from the moment the connection
 *   opens), nothing more is delivered for `ms` (default: until the connection is closed),
 *   counted in model time from that delivery (so timer lateness never lengthens a stall).
 * - `slice`: every delivery is cut into writes of at most `size` bytes, `delayMs` apart, so the
 *   receiver's parser sees tiny reads.
 *
 * Toxics are values; {@link ToxicSet} holds the ones in force for a link or a forward (each may
 * apply to only the next `times` connections), and {@link ToxicShaper} is the per-connection,
 * per-direction state that applies them: the scheduler asks it how large the next piece may be
 * and when it may leave. Byte offsets count delivered bytes of one direction of one connection.
 */

import type { Direction } from './options.js';
import { byteCount, duration, show } from './validate.js';

/** Fields every toxic has. */
export interface ToxicBase {
  /** The direction it acts on. Default `'downstream'` (server → client: responses). */
  readonly direction?: Direction;
  /** How many new connections it applies to, counted from when it is added. Default `Infinity`. */
  readonly times?: number;
}

/** Reset both ends (RST) once `bytes` bytes have been delivered in `direction`. */
export interface ResetAfterToxic extends ToxicBase {
  /** Discriminant of {@link Toxic}. */
  readonly kind: 'reset-after';
  /** Bytes delivered before the reset; 0 resets as soon as the first byte would be delivered. */
  readonly bytes: number;
}

/** Close both ends gracefully (FIN) once exactly `bytes` bytes have been delivered in `direction`. */
export interface CloseAfterToxic extends ToxicBase {
  /** Discriminant of {@link Toxic}. */
  readonly kind: 'close-after';
  /** Bytes delivered before the FIN; 0 closes as soon as the first byte would be delivered. */
  readonly bytes: number;
}

/** Deliver nothing for `ms` once `afterBytes` bytes have been delivered. */
export interface StallToxic extends ToxicBase {
  /** Discriminant of {@link Toxic}. */
  readonly kind: 'stall';
  /** Bytes delivered before the stall. Default 0: the stall starts when the connection opens. */
  readonly afterBytes?: number;
  /** Length of the stall, ms. Default `Infinity`: until the connection closes. */
  readonly ms?: number;
}

/** Cut deliveries into writes of at most `size` bytes, `delayMs` apart. */
export interface SliceToxic extends ToxicBase {
  /** Discriminant of {@link Toxic}. */
  readonly kind: 'slice';
  /** Largest write, bytes (≥ 1). */
  readonly size: number;
  /**
   * Ms between two writes, measured from when the previous one was actually made. Default 0:
   * separate `write()` calls in the same tick, which a receiver may still read as one; use ≥ 1
   * to make the receiver see separate reads.
   */
  readonly delayMs?: number;
}

/** A fault injected into a link's connections. Discriminated on `kind`. */
export type Toxic = ResetAfterToxic | CloseAfterToxic | StallToxic | SliceToxic;

/** The kinds of {@link Toxic}. */
export const TOXIC_KINDS = ['reset-after', 'close-after', 'stall', 'slice'] as const satisfies readonly Toxic['kind'][];

/** What a toxic does to the whole connection when its byte limit is reached. */
export type ToxicAction = 'reset' | 'close';

function direction(name: string, value: unknown): Direction {
  if (value === undefined) return 'downstream';
  if (value === 'upstream' || value === 'downstream') return value;
  throw new RangeError(`${name} must be 'upstream' or 'downstream', got ${show(value)}`);
}

/**
 * Check one toxic and return it with every default filled in.
 *
 * @param name how to name it in errors, e.g. `toxics[2]`.
 * @throws RangeError naming the field when a field is missing, out of range or of the wrong type.
 */
export function resolveToxic(name: string, value: unknown): Toxic {
  if (typeof value !== 'object' || value === null) throw new RangeError(`${name} must be a toxic object, got ${show(value)}`);
  const t = value as Partial<Record<string, unknown>>;
  const base = {
    direction: direction(`${name}.direction`, t.direction),
    times: byteCount(`${name}.times`, t.times, Number.POSITIVE_INFINITY, 1, true),
  };
  switch (t.kind) {
    case 'reset-after':
    case 'close-after': {
      if (t.bytes === undefined) throw new RangeError(`${name}.bytes is required for '${t.kind}'`);
      return Object.freeze({ kind: t.kind, bytes: byteCount(`${name}.bytes`, t.bytes, 0, 0, false), ...base });
    }
    case 'stall':
      return Object.freeze({
        kind: 'stall',
        afterBytes: byteCount(`${name}.afterBytes`, t.afterBytes, 0, 0, false),
        ms: duration(`${name}.ms`, t.ms, Number.POSITIVE_INFINITY, true),
        ...base,
      });
    case 'slice': {
      if (t.size === undefined) throw new RangeError(`${name}.size is required for 'slice'`);
      return Object.freeze({
        kind: 'slice',
        size: byteCount(`${name}.size`, t.size, 1, 1, false),
        delayMs: duration(`${name}.delayMs`, t.delayMs, 0),
        ...base,
      });
    }
    default:
      throw new RangeError(`${name}.kind must be one of ${TOXIC_KINDS.map((k) => `'${k}'`).join(', ')}, got ${show(t.kind)}`);
  }
}

/** Check a list of toxics (see {@link resolveToxic}). */
export function resolveToxics(name: string, list: readonly Toxic[] | undefined): readonly Toxic[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new RangeError(`${name} must be an array of toxics`);
  return Object.freeze(list.map((t, i) => resolveToxic(`${name}[${i}]`, t)));
}

/** The toxics in force for a link or a forward, each with how many more connections it applies to. */
export class ToxicSet {
  readonly #entries: { readonly toxic: Toxic; left: number }[] = [];

  constructor(initial: readonly Toxic[] = []) {
    for (const toxic of initial) this.add(toxic);
  }

  /** Add a checked toxic; returns a function that removes it (for connections opened afterwards). */
  add(toxic: Toxic): () => void {
    const entry = { toxic, left: toxic.times ?? Number.POSITIVE_INFINITY };
    this.#entries.push(entry);
    return () => {
      const i = this.#entries.indexOf(entry);
      if (i >= 0) this.#entries.splice(i, 1);
    };
  }

  /** The toxics for one new connection. Each one taken counts against its `times`; spent ones are dropped. */
  take(): Toxic[] {
    const taken: Toxic[] = [];
    for (const entry of this.#entries) {
      if (entry.left <= 0) continue;
      taken.push(entry.toxic);
      entry.left -= 1;
    }
    for (let i = this.#entries.length - 1; i >= 0; i -= 1) {
      if ((this.#entries[i]?.left ?? 0) <= 0) this.#entries.splice(i, 1);
    }
    return taken;
  }

  /** The toxics still in force. */
  list(): Toxic[] {
    return this.#entries.map((e) => e.toxic);
  }
}

/**
 * Applies the toxics of one direction of one connection to its delivered bytes.
 *
 * Protocol with the caller: while bytes are ready, wait until `freeAt`, ask `nextPieceLimit()`
 * how many ready bytes may leave as one write, write them, then report with `onPiece()`, which returns the connection-wide action once a byte limit is reached.
 * Several toxics combine: the lowest `reset-after`/`close-after` limit wins (a reset on a tie),
 * every stall applies, and several slices act as one with the smallest size and longest delay.
 */
export class ToxicShaper {
  #offset = 0;
  #freeAt: number;
  /** Stalls not yet started, by `afterBytes` ascending; all have `afterBytes` > 0. */
  readonly #stalls: { readonly afterBytes: number; readonly ms: number }[] = [];
  readonly #limit: { readonly bytes: number; readonly action: ToxicAction } | undefined;
  readonly #slice: { readonly size: number; readonly delayMs: number } | undefined;

  /**
   * @param toxics checked toxics of this direction (others are ignored).
   * @param dir the direction this shaper serves.
   * @param openedAt when the connection opened (a stall with `afterBytes` 0 starts then).
   */
  constructor(toxics: readonly Toxic[], dir: Direction, openedAt: number) {
    let freeAt = Number.NEGATIVE_INFINITY;
    let limit: { bytes: number; action: ToxicAction } | undefined;
    let slice: { size: number; delayMs: number } | undefined;
    for (const t of toxics) {
      if ((t.direction ?? 'downstream') !== dir) continue;
      switch (t.kind) {
        case 'reset-after':
        case 'close-after': {
          const action: ToxicAction = t.kind === 'reset-after' ? 'reset' : 'close';
          if (limit === undefined || t.bytes < limit.bytes || (t.bytes === limit.bytes && action === 'reset')) limit = { bytes: t.bytes, action };
          break;
        }
        case 'stall': {
          const afterBytes = t.afterBytes ?? 0;
          const ms = t.ms ?? Number.POSITIVE_INFINITY;
          if (afterBytes === 0) freeAt = Math.max(freeAt, openedAt + ms);
          else this.#stalls.push({ afterBytes, ms });
          break;
        }
        case 'slice': {
          const delayMs = t.delayMs ?? 0;
          slice = slice === undefined ? { size: t.size, delayMs } : { size: Math.min(slice.size, t.size), delayMs: Math.max(slice.delayMs, delayMs) };
          break;
        }
      }
    }
    this.#stalls.sort((a, b) => a.afterBytes - b.afterBytes);
    this.#freeAt = freeAt;
    this.#limit = limit;
    this.#slice = slice;
  }

  /** Bytes let through so far. */
  get offset(): number {
    return this.#offset;
  }

  /** Earliest time the next piece may leave (`-Infinity`: now; `Infinity`: never). */
  get freeAt(): number {
    return this.#freeAt;
  }

  /** Whether deliveries are cut into separate writes (the caller must not merge them). */
  get sliced(): boolean {
    return this.#slice !== undefined;
  }

  /**
   * The most bytes the next write may carry (Infinity: no limit). 0 only when the byte limit is
   * already reached: the caller then calls `onPiece(0, …)` to get the action.
   */
  nextPieceLimit(): number {
    let n = Number.POSITIVE_INFINITY;
    if (this.#slice !== undefined) n = Math.min(n, this.#slice.size);
    const stall = this.#stalls[0];
    if (stall !== undefined) n = Math.min(n, stall.afterBytes - this.#offset);
    if (this.#limit !== undefined) n = Math.min(n, this.#limit.bytes - this.#offset);
    return n;
  }

  /**
   * Record a piece of `n` bytes leaving at model time `t` (wall-clock time `now`, from which
   * slice delays are measured so that the receiver really sees separate reads).
   *
   * @returns the connection-wide action when this piece reached the byte limit.
   */
  onPiece(n: number, t: number, now: number): ToxicAction | undefined {
    this.#offset += n;
    while (this.#stalls[0] !== undefined && this.#stalls[0].afterBytes <= this.#offset) {
      const stall = this.#stalls.shift();
      if (stall !== undefined) this.#freeAt = Math.max(this.#freeAt, t + stall.ms);
    }
    if (this.#slice !== undefined && this.#slice.delayMs > 0) this.#freeAt = Math.max(this.#freeAt, now + this.#slice.delayMs);
    if (this.#limit !== undefined && this.#offset >= this.#limit.bytes) return this.#limit.action;
    return undefined;
  }
}
