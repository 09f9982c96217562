/**
 * The site config of the simulator's stack scenario (examples/sim/stack.yaml): its one RTU-over-TCP
 * bus with the multi-gas analyser, the dust monitor and the flue-gas parameters at 500 ms, an
 * MQTT uplink that batches briefly and reports health every second, and the log in `log.db`
 * beside the config.
 */
export function stackSiteYaml(o: {
  simPort: number;
  brokerUrl: string;
  gatewayId: string;
  gatewayExtra?: string;
  siteId?: string;
}): string {
  return `version: 1
site: { id: ${o.siteId ?? 'test-site'}, name: Test site }
gateway: { id: ${o.gatewayId}${o.gatewayExtra ?? ''} }
buses:
  stack1: { kind: rtu-over-tcp, host: 127.0.0.1, port: ${o.simPort}, baud: 9600, timeoutMs: 500, retries: 0 }
devices:
  stack1-uv: { profile: sdl.scs-900uv, bus: stack1, unitId: 1, periodMs: 500 }
  stack1-dust: { profile: sdl.scs-900cpm, bus: stack1, unitId: 2, periodMs: 500 }
  stack1-flue: { profile: generic.flue-gas-parameters, bus: stack1, unitId: 3, periodMs: 500 }
uplinks:
  mqtt: { url: '${o.brokerUrl}', batch: { maxReadings: 50, lingerMs: 100 }, healthIntervalMs: 1000 }
storage: { path: log.db, quotaMb: 64 }
`;
}
