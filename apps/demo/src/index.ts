/**
 * @tether/demo — the connection strategies compared end to end through an emulated network, the
 * model that predicts them, and the chapter's experiments. `pnpm demo` runs the CLI (cli.ts);
 * these exports let the dashboard, the tests and other tools drive the same pieces.
 *
 * @packageDocumentation
 */

export { STRATEGY_NAMES, predict, transfer } from './model.js';
export type { Prediction, Scenario, StrategyName } from './model.js';
export { DEFAULT_PAGE, makePage, objectSizes } from './page.js';
export type { Page, PageObject, PageSpec } from './page.js';
export { DEFAULT_PARAMS, MODEL_TOLERANCE, runComparison, scenarioOf } from './run.js';
export type { Progress, RunParams, RunResult, StrategyResult } from './run.js';
export { runSweep } from './sweep.js';
export type { SweepAxis, SweepPoint, SweepResult } from './sweep.js';
export { load } from './strategies.js';
export type { RequestTrace, Trace, Target } from './strategies.js';
export { renderReport, waterfallSvg } from './report.js';
export { startDashboard } from './dashboard.js';
export type { Dashboard, DashboardOptions } from './dashboard.js';
export { LABS, formatLab } from './labs/index.js';
