/**
 * Theory of operation: {@link Fields} is an immutable list of field lines (a header or trailer
 * section) in wire order with original name case, stored flat as `[name, value, name, value…]`
 * like Node's `rawHeaders`. Case-insensitive lookups build a lower-cased index on first use, so a
 * message whose fields are never looked up costs no map. Writers accept the looser
 * {@link FieldsInit} shapes and normalise through {@link Fields.from}.
 */

import { lowerEqualsAt } from './abnf.js';

/** What can be turned into {@link Fields}: Fields, a flat raw list, `[name, value]` pairs or a record. */
export type FieldsInit =
  | Fields
  | readonly string[]
  | Iterable<readonly [string, string]>
  | Readonly<Record<string, string | number | readonly string[] | undefined>>;

/**
 * How {@link Fields.toObject} folds the lines of one name into one property: their values joined
 * with a separator, kept as an array, or only the first line's value kept.
 */
export type FoldRule =
  | {
      /** The separator the values are joined with. */
      readonly join: string;
    }
  | 'array'
  | 'first';

/** {@link FoldRule}s by lower-case field name; a name not listed is joined with ", ". */
export type FoldRules = ReadonlyMap<string, FoldRule>;

/**
 * The default rules: `set-cookie` as an array (RFC 9110 §5.3: its lines cannot be combined into
 * one), every other name joined with ", " (RFC 9110 §5.3, the combination of list-based fields).
 */
export const DEFAULT_FOLD_RULES: FoldRules = new Map<string, FoldRule>([['set-cookie', 'array']]);

const COMMA: FoldRule = { join: ', ' };

const NO_LINES: readonly string[] = [];
const NO_OFFSETS: readonly number[] = [];
const NO_VALUES: readonly string[] = [];

/** An immutable, ordered list of HTTP field lines with case-insensitive lookup. */
export class Fields implements Iterable<[name: string, value: string]> {
  #raw: readonly string[] | undefined;
  #text = '';
  #offsets: readonly number[] = NO_OFFSETS;
  #index: Map<string, string[]> | undefined;

  /** Wrap a flat `[name, value, …]` list (not copied, not validated: writers validate). */
  constructor(raw: readonly string[] = NO_LINES) {
    this.#raw = raw;
  }

  /**
   * Fields parsed out of `text`, kept as offsets `[nameStart, nameEnd, valueStart, valueEnd, …]`
   * until something reads them: a message whose fields are never read costs no strings.
   * (Used by the parser; the strings are cut on first access.)
   */
  static fromText(text: string, offsets: readonly number[]): Fields {
    const f = new Fields();
    f.#raw = undefined;
    f.#text = text;
    f.#offsets = offsets;
    return f;
  }

  /** Flat `[name, value, …]` in wire order with the names' original case. */
  get raw(): readonly string[] {
    let raw = this.#raw;
    if (raw === undefined) {
      const text = this.#text;
      const off = this.#offsets;
      const out = new Array<string>(off.length >> 1);
      for (let i = 0, j = 0; i < off.length; i += 2, j++) out[j] = text.slice(off[i], off[i + 1]);
      raw = out;
      this.#raw = raw;
      this.#text = '';
      this.#offsets = NO_OFFSETS;
    }
    return raw;
  }

  /** Normalise any {@link FieldsInit}. Record values that are arrays become repeated lines; `undefined` is skipped. */
  static from(init: FieldsInit | undefined): Fields {
    if (init === undefined) return EMPTY_FIELDS;
    if (init instanceof Fields) return init;
    if (Array.isArray(init)) {
      if (init.length === 0) return EMPTY_FIELDS;
      if (typeof init[0] === 'string') return new Fields(init as readonly string[]);
    }
    const raw: string[] = [];
    if (Symbol.iterator in (init as object)) {
      for (const [name, value] of init as Iterable<readonly [string, string]>) raw.push(name, value);
      return new Fields(raw);
    }
    for (const [name, value] of Object.entries(init as Record<string, string | number | readonly string[] | undefined>)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value as readonly string[]) raw.push(name, v);
      else raw.push(name, String(value));
    }
    return new Fields(raw);
  }

  /** Number of field lines. */
  get size(): number {
    return this.#raw === undefined ? this.#offsets.length >> 2 : this.#raw.length >> 1;
  }

  #lookup(): Map<string, string[]> {
    return (this.#index ??= indexLines(this.raw, this.raw.length >> 1));
  }

  /**
   * While the fields are still offsets into the received text, a lookup scans them instead of
   * cutting every string and building the index: a server asking for two fields of a head costs
   * two scans of ~10 name lengths, not a map of them all. `undefined` once the fields are strings.
   */
  #scan(lower: string): readonly string[] | undefined {
    if (this.#raw !== undefined) return undefined;
    const text = this.#text;
    const off = this.#offsets;
    const n = lower.length;
    let found: string[] | undefined;
    for (let i = 0; i < off.length; i += 4) {
      const start = off[i]!;
      if (off[i + 1]! - start === n && lowerEqualsAt(text, start, lower)) (found ??= []).push(text.slice(off[i + 2], off[i + 3]));
    }
    return found ?? NO_VALUES;
  }

  #values(name: string): readonly string[] | undefined {
    const lower = name.toLowerCase();
    const scanned = this.#index === undefined ? this.#scan(lower) : undefined;
    if (scanned !== undefined) return scanned.length === 0 ? undefined : scanned;
    return this.#lookup().get(lower);
  }

  /** All values of `name` (any case), in order; empty when absent. */
  getAll(name: string): readonly string[] {
    return this.#values(name) ?? NO_VALUES;
  }

  /**
   * The combined value of `name` (RFC 9110 §5.3: lines joined with ", "), or `undefined`.
   * For `set-cookie`, which cannot be combined, use {@link Fields.getAll}.
   */
  get(name: string): string | undefined {
    const values = this.#values(name);
    if (values === undefined) return undefined;
    return values.length === 1 ? values[0] : values.join(', ');
  }

  /** Whether a field named `name` (any case) is present. */
  has(name: string): boolean {
    return this.#values(name) !== undefined;
  }

  /** The distinct field names, lower-cased, in order of first appearance. */
  names(): string[] {
    return [...this.#lookup().keys()];
  }

  /**
   * A node:http-style object: lower-case names, each name's lines folded by `rules` (default
   * {@link DEFAULT_FOLD_RULES}: values joined with ", ", `set-cookie` as an array). Only the first
   * `lines` field lines are looked at (default: all), as node's `maxHeadersCount` does.
   */
  toObject(rules: FoldRules = DEFAULT_FOLD_RULES, lines = Number.POSITIVE_INFINITY): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    const index = lines >= this.size ? this.#lookup() : indexLines(this.raw, lines);
    for (const [name, values] of index) out[name] = fold(values, rules.get(name) ?? COMMA);
    return out;
  }

  /** A copy without the fields whose lower-cased names are in `names`. */
  without(names: ReadonlySet<string>): Fields {
    const raw: string[] = [];
    for (let i = 0; i < this.raw.length; i += 2) {
      const name = this.raw[i]!;
      if (!names.has(name.toLowerCase())) raw.push(name, this.raw[i + 1]!);
    }
    return raw.length === this.raw.length ? this : new Fields(raw);
  }

  /** A copy with `name: value` appended. */
  with(name: string, value: string): Fields {
    return new Fields([...this.raw, name, value]);
  }

  /** Field lines as `[name, value]` pairs in wire order. */
  *[Symbol.iterator](): IterableIterator<[name: string, value: string]> {
    for (let i = 0; i < this.raw.length; i += 2) yield [this.raw[i]!, this.raw[i + 1]!];
  }
}

/** The values of the first `lines` field lines of `raw`, by lower-case name, in order of first appearance. */
function indexLines(raw: readonly string[], lines: number): Map<string, string[]> {
  const index = new Map<string, string[]>();
  const end = Math.min(raw.length, lines * 2);
  for (let i = 0; i < end; i += 2) {
    const name = raw[i]!.toLowerCase();
    const list = index.get(name);
    if (list === undefined) index.set(name, [raw[i + 1]!]);
    else list.push(raw[i + 1]!);
  }
  return index;
}

/** One name's values as one property, by `rule`. */
function fold(values: readonly string[], rule: FoldRule): string | string[] {
  if (rule === 'array') return [...values];
  if (rule === 'first' || values.length === 1) return values[0]!;
  return values.join(rule.join);
}

/** The empty field list, shared. */
export const EMPTY_FIELDS = new Fields([]);
