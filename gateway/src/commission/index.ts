/** `lantian commission`: a timed run of the site, checked, written up as report.html and report.json. */
export { parseDuration, MIN_DURATION_MS, MAX_DURATION_MS } from './duration.js';
export { THRESHOLDS } from './checks.js';
export { commissionRun, type RunFacts, type RunOptions } from './run.js';
export { buildReport, type ReportInput } from './report.js';
export { renderHtml, escapeHtml } from './html.js';
export * from './types.js';
