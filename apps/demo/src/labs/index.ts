/**
 * Theory of operation: the registry of the chapter's experiments and the plain-text block the CLI
 * prints for each (`pnpm demo lab <name>`). Labs are listed in the order of the chapter: the
 * four of the issue first (nagle, time-wait, port-exhaustion, dumb-proxy), then the three of the
 * design (truncated, reset, keep-alive-race). Nothing here opens a socket; each lab does, when
 * run.
 */

import { dumbProxyLab } from './dumb-proxy.js';
import { keepAliveRaceLab } from './keep-alive-race.js';
import type { Lab, LabDefinition, LabResult } from './lab.js';
import { nagleLab } from './nagle.js';
import { portExhaustionLab } from './port-exhaustion.js';
import { resetLab } from './reset.js';
import { timeWaitLab } from './time-wait.js';
import { truncatedLab } from './truncated.js';

export type { Lab, LabDefinition, LabOptions, LabResult, Measurement } from './lab.js';
export type { DumbProxyData, ProxyExchange, ProxyScenario } from './dumb-proxy.js';
export type { KeepAliveRaceData, RaceTrials } from './keep-alive-race.js';
export type { NagleData } from './nagle.js';
export type { PortExhaustionData, PortFailure } from './port-exhaustion.js';
export type { ResetData, ResetVariant } from './reset.js';
export type { TimeWaitData, TimeWaitPhase } from './time-wait.js';
export type { TruncatedData, TruncatedVariant } from './truncated.js';
export type { Summary } from './stats.js';
export type { TimeWaitCount } from './tcp-table.js';
export { runDumbProxy } from './dumb-proxy.js';
export { runKeepAliveRace } from './keep-alive-race.js';
export { runNagle } from './nagle.js';
export { runPortExhaustion } from './port-exhaustion.js';
export { runReset } from './reset.js';
export { runTimeWait } from './time-wait.js';
export { runTruncated } from './truncated.js';

const DEFINITIONS: readonly LabDefinition[] = [nagleLab, timeWaitLab, portExhaustionLab, dumbProxyLab, truncatedLab, resetLab, keepAliveRaceLab];

/** Every lab by the name the CLI takes (`nagle`, `time-wait`, …), in the chapter's order. */
export const LABS: Readonly<Record<string, { readonly title: string; readonly run: Lab }>> = Object.freeze(
  Object.fromEntries(DEFINITIONS.map((lab) => [lab.name, Object.freeze({ title: lab.title, run: lab.run })])),
);

/** The lab names, in the chapter's order. */
export const LAB_NAMES: readonly string[] = Object.freeze(DEFINITIONS.map((lab) => lab.name));

/**
 * The plain-text block the CLI prints for a result: the title, the measured lines with their
 * labels aligned, a warning when the effect was not observed, and the two explanation lines.
 * No colours, no trailing newline.
 */
export function formatLab(result: LabResult): string {
  const width = Math.max(0, ...result.measured.map((m) => m.label.length));
  const lines = [`${result.name} — ${result.title}`];
  for (const m of result.measured) lines.push(`  ${m.label.padEnd(width)}  ${m.value}`);
  if (!result.ok) lines.push('  ! the expected effect was not observed on this machine; the figures above are what happened');
  for (const line of result.explanation) lines.push(`  → ${line}`);
  return lines.join('\n');
}
