/** Settings shared by producer-gateway.ts (the child) and the tests that kill it. */
export const PRODUCER = { gatewayId: 'gw-kill', batchSize: 100, maxInFlight: 8, perPoll: 20, pollMs: 10 };
