/** Facts of a run plus the system checks -> the commissioning report (report.json). */
import type { LoadedConfig } from '../config/index.js';
import { pollingPlan } from '../config/plan.js';
import { THRESHOLDS, deviceChecks, hj212Check, mqttCheck, overall, systemCheck } from './checks.js';
import { deviceReports } from './collect.js';
import type { RunFacts } from './run.js';
import { REPORT_FORMAT, type Check, type CommissionReport } from './types.js';

type Finding = Parameters<typeof systemCheck>[1];

export interface ReportInput {
  loaded: LoadedConfig;
  /** The config file as given on the command line. */
  configFile: string;
  lantianVersion: string;
  facts: RunFacts;
  /** `lantian doctor`'s clock and disk findings, taken after the run. */
  clock: Finding;
  disk: Finding;
}

/** Events listed in the report; the count covers them all. */
const EVENTS_LISTED = 200;

export function buildReport(input: ReportInput): CommissionReport {
  const { loaded, facts } = input;
  const { config } = loaded;
  // In the order the config lists them, as the installer wrote them down.
  const order = Object.keys(config.devices);
  const rank = (id: string) => (order.includes(id) ? order.indexOf(id) : order.length);
  const devices = deviceReports(pollingPlan(config, loaded.profiles), facts.health, facts.recorded).sort(
    (a, b) => rank(a.id) - rank(b.id),
  );
  const checks: Check[] = [
    ...devices.flatMap(deviceChecks),
    ...(facts.mqtt ? [mqttCheck(facts.mqtt)] : []),
    ...facts.hj212.map(hj212Check),
    systemCheck('clock', input.clock),
    systemCheck('disk', input.disk),
  ];
  const gateway: CommissionReport['gateway'] = { id: config.gateway.id };
  if (config.gateway.name !== undefined) gateway.name = config.gateway.name;
  return {
    format: REPORT_FORMAT,
    lantian: input.lantianVersion,
    site: { id: config.site.id, name: config.site.name, timezone: config.site.timezone },
    gateway,
    config: input.configFile,
    startedAt: new Date(facts.startedAt).toISOString(),
    endedAt: new Date(facts.endedAt).toISOString(),
    durationMs: facts.endedAt - facts.startedAt,
    log: {
      fromSeq: facts.fromSeq,
      throughSeq: facts.throughSeq,
      readings: facts.recorded.readings,
      events: facts.recorded.events.length,
    },
    ...overall(checks),
    checks,
    devices,
    uplinks: { mqtt: facts.mqtt, hj212: facts.hj212 },
    events: facts.recorded.events.slice(0, EVENTS_LISTED),
    thresholds: { ...THRESHOLDS },
  };
}
