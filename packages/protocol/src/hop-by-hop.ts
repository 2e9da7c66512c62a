/**
 * Theory of operation: hop-by-hop fields describe one connection, not the message, so a proxy
 * must not forward them (RFC 9110 §7.6.1, "HTTP: The Definitive Guide" §4.3.1). They are the
 * fixed set below plus every field the Connection header names.
 */

import { parseConnection } from './connection-header.js';
import type { Fields } from './fields.js';

/** The fields that are hop-by-hop whatever Connection says, lower-cased. */
export const HOP_BY_HOP_FIELDS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The lower-cased names of every hop-by-hop field of `fields`: the fixed set plus Connection's tokens. */
export function hopByHopNames(fields: Fields): Set<string> {
  const names = new Set(HOP_BY_HOP_FIELDS);
  for (const token of parseConnection(fields.getAll('connection')).tokens) names.add(token);
  return names;
}

/** Whether `name` is hop-by-hop for a message with these `fields` (any case). */
export function isHopByHop(name: string, fields?: Fields): boolean {
  const lower = name.toLowerCase();
  if (HOP_BY_HOP_FIELDS.has(lower)) return true;
  return fields !== undefined && parseConnection(fields.getAll('connection')).tokens.includes(lower);
}

/** The fields a proxy may forward: `fields` without its hop-by-hop fields. */
export function stripHopByHop(fields: Fields): Fields {
  return fields.without(hopByHopNames(fields));
}
