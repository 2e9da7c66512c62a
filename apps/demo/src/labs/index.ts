/**
 * Theory of operation: the registry of the chapter's experiments and the plain-text block the CLI
 * prints for each (`pnpm demo lab <name>`). Labs are listed in the order of the chapter: the
 * four of the issue first (nagle, time-wait, port-exhaustion, dumb-proxy), then the three of the
 * design (truncated, reset, keep-alive-race), then slow start over the emulated link and the
 * keep-alive race behind nginx. Each lab also says what it shows and gives the `lab all`
 * summary its headline figures. Nothing here opens a socket; each lab does, when run.
 */

import { dumbProxyLab } from './dumb-proxy.js';
import { keepAliveRaceLab } from './keep-alive-race.js';
import type { Headline, Lab, LabDefinition, LabResult } from './lab.js';
import { nagleLab } from './nagle.js';
import { portExhaustionLab } from './port-exhaustion.js';
import { proxyRaceLab } from './proxy-race.js';
import { resetLab } from './reset.js';
import { slowStartLab } from './slow-start.js';
import { timeWaitLab } from './time-wait.js';
import { truncatedLab } from './truncated.js';

export type { Headline, Lab, LabDefinition, LabOptions, LabResult, Measurement } from './lab.js';
export type { DumbProxyData, ProxyExchange, ProxyScenario } from './dumb-proxy.js';
export type { KeepAliveRaceData, RaceTrials } from './keep-alive-race.js';
export type { NagleData } from './nagle.js';
export type { PortExhaustionData, PortFailure } from './port-exhaustion.js';
export type { ProxyRaceBackend, ProxyRaceData, ProxyRaceRun } from './proxy-race.js';
export type { ResetData, ResetVariant } from './reset.js';
export type { FetchCase, SlowStartData, SlowStartFetch } from './slow-start.js';
export type { TimeWaitData, TimeWaitPhase } from './time-wait.js';
export type { TruncatedData, TruncatedVariant } from './truncated.js';
export type { Summary } from './stats.js';
export type { AllLabsOptions, AllLabsResult, LabSummaryRow } from './all.js';
export { formatAllLabs, runAllLabs, summaryRow } from './all.js';
export type { TimeWaitCount } from './tcp-table.js';
export { runDumbProxy } from './dumb-proxy.js';
export { runKeepAliveRace } from './keep-alive-race.js';
export { runNagle } from './nagle.js';
export { runPortExhaustion } from './port-exhaustion.js';
export { runProxyRace } from './proxy-race.js';
export { runReset } from './reset.js';
export { runSlowStart } from './slow-start.js';
export { runTimeWait } from './time-wait.js';
export { runTruncated } from './truncated.js';


/** A lab as the registry lists it: its figures are `unknown` here, its headline reads them back. */
export interface RegisteredLab {
  readonly title: string;
  /** What the lab shows, in a few words. */
  readonly shows: string;
  readonly run: Lab;
  /** The `lab all` summary row's figures for a result of this lab. */
  readonly headline: (result: LabResult) => Headline;
}

function register<D>(lab: LabDefinition<D>): readonly [string, RegisteredLab] {
  // A result handed back to its own lab's headline carries that lab's data.
  const headline = (result: LabResult): Headline => lab.headline(result.data as D);
  return [lab.name, Object.freeze({ title: lab.title, shows: lab.shows, run: lab.run, headline })];
}

const REGISTERED = [
  register(nagleLab),
  register(timeWaitLab),
  register(portExhaustionLab),
  register(dumbProxyLab),
  register(truncatedLab),
  register(resetLab),
  register(keepAliveRaceLab),
  register(slowStartLab),
  register(proxyRaceLab),
];

/** Every lab by the name the CLI takes (`nagle`, `time-wait`, …), in the chapter's order. */
export const LABS: Readonly<Record<string, RegisteredLab>> = Object.freeze(Object.fromEntries(REGISTERED));

/** The lab names, in the chapter's order. */
export const LAB_NAMES: readonly string[] = Object.freeze(REGISTERED.map(([name]) => name));

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
