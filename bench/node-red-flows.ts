/**
 * The two Node-RED flows `bench:node-red` runs against one simulated line: Lantian's `lantian
 * device` nodes (one per analyzer, the engine plans the reads) and node-red-contrib-modbus's
 * `modbus-read` nodes (one per point, as its users wire it, on one `modbus-client` with the
 * editor's defaults for RTU over TCP). Both flows count what they deliver in flow context and
 * serve the counts at GET /bench/counts, so the bench reads the same figures from either.
 */
import type { Profile } from '../gateway/src/profiles/schema.js';

type FlowNode = Record<string, unknown> & { id: string; type: string };

export interface BenchLine {
  host: string;
  port: number;
  baud: number;
  /** Unit ids of the analyzers on the line, each polled as device `a<unit>`. */
  units: number[];
  profile: Profile;
  /** Poll period asked for, seconds, for every point. */
  periodS: number;
}

/** What a flow's counter holds (GET /bench/counts). */
export interface Counts {
  /** Messages out of the polling nodes. */
  messages: number;
  /** Points delivered with the value the simulator serves. */
  delivered: number;
  /** Points delivered with another value (a decoding or framing mistake). */
  wrong: number;
  /** Delivered points per device. */
  perDevice: Record<string, number>;
  /** Delivered points by the wall-clock second (epoch s) they reached the counter. */
  perSecond: Record<string, number>;
  /** Points not delivered, by reason (Lantian: the B reading's quality; contrib: the error text). */
  failed: Record<string, number>;
}

const TAB = 'bench';
const EMPTY = '{ messages: 0, delivered: 0, wrong: 0, perDevice: {}, perSecond: {}, failed: {} }';

/**
 * The function node every polling node feeds: `body` sees the message, `expected` (values by
 * point key), `same(a, b)`, the counts `c` and `delivered(device)`, which counts one point.
 */
function counter(line: BenchLine, name: string, body: string[]): FlowNode {
  return {
    id: 'bench-count',
    type: 'function',
    z: TAB,
    name,
    func: [
      `const expected = ${JSON.stringify(expectedValues(line.profile))};`,
      // float32 values compare to a relative 1e-5: what a single-precision register pair holds.
      'const same = (a, b) => Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));',
      `const c = flow.get('counts') || ${EMPTY};`,
      'const second = Math.floor(Date.now() / 1000);',
      'const delivered = (device) => {',
      '  c.delivered++;',
      '  c.perDevice[device] = (c.perDevice[device] || 0) + 1;',
      '  c.perSecond[second] = (c.perSecond[second] || 0) + 1;',
      '};',
      'c.messages++;',
      ...body,
      "flow.set('counts', c);",
      'return null;',
    ].join('\n'),
    outputs: 1,
    wires: [[]],
  };
}

/** The values each point should read: the profile's first example, which the simulator serves. */
export function expectedValues(profile: Profile): Record<string, number> {
  const values = profile.examples[0]?.values ?? {};
  const out: Record<string, number> = {};
  for (const p of profile.points) {
    const v = values[p.key];
    if (typeof v === 'number') out[p.key] = v;
  }
  return out;
}

function countsEndpoint(): FlowNode[] {
  return [
    {
      id: 'bench-http-in',
      type: 'http in',
      z: TAB,
      url: '/bench/counts',
      method: 'get',
      upload: false,
      wires: [['bench-http-counts']],
    },
    {
      id: 'bench-http-counts',
      type: 'function',
      z: TAB,
      name: 'counts as JSON',
      func: `msg.payload = flow.get('counts') || ${EMPTY};\nreturn msg;`,
      outputs: 1,
      wires: [['bench-http-out']],
    },
    { id: 'bench-http-out', type: 'http response', z: TAB, statusCode: '', headers: {}, wires: [] },
  ];
}

const tab = (label: string): FlowNode => ({ id: TAB, type: 'tab', label });

/** Lantian: one line config node, one `lantian device` per analyzer polling all its points. */
export function lantianFlow(line: BenchLine): FlowNode[] {
  const count = counter(line, 'count points', [
    'for (const r of msg.readings) {',
    "  if (r.flag === 'N' && typeof r.value === 'number') {",
    '    if (same(r.value, expected[r.point])) delivered(msg.device);',
    '    else c.wrong++;',
    '  } else {',
    '    const why = (r.quality && r.quality[0]) || r.flag;',
    '    c.failed[why] = (c.failed[why] || 0) + 1;',
    '  }',
    '}',
  ]);
  return [
    tab('lantian device'),
    {
      id: 'bench-line',
      type: 'lantian-line',
      name: 'rs485-1',
      transport: 'rtu-tcp',
      host: line.host,
      port: String(line.port),
      baud: String(line.baud),
      parity: 'none',
      dataBits: '8',
      stopBits: '1',
      silenceMs: '',
    },
    ...line.units.map((unit) => ({
      id: `bench-a${unit}`,
      type: 'lantian-device',
      z: TAB,
      name: `a${unit}`,
      line: 'bench-line',
      profile: line.profile.id,
      device: `a${unit}`,
      unitId: String(unit),
      period: String(line.periodS),
      timeoutMs: '',
      retries: '',
      points: '',
      wires: [['bench-count']],
    })),
    count,
    ...countsEndpoint(),
  ];
}

/**
 * The `modbus-client` config node as the editor creates it (modbus-client.html defaults of
 * node-red-contrib-modbus 5.23.3), switched to TCP of type TELNET: raw RTU frames over TCP, what a
 * serial device server speaks (its TCP-RTU-BUFFERED type sends Modbus TCP headers instead, which
 * such a server passes to the line as garbage). Everything else as the editor sets it: queueing
 * on, 1 ms command delay, 1000 ms timeout, reconnect on timeout after 2000 ms, parallel unit ids
 * allowed.
 */
export function contribClient(line: BenchLine, parallelUnitIds = true): FlowNode {
  return {
    id: 'bench-client',
    type: 'modbus-client',
    name: 'rs485-1',
    clienttype: 'tcp',
    bufferCommands: true,
    stateLogEnabled: false,
    queueLogEnabled: false,
    failureLogEnabled: true,
    tcpHost: line.host,
    tcpPort: String(line.port),
    tcpType: 'TELNET',
    serialPort: '/dev/ttyUSB',
    serialType: 'RTU-BUFFERD',
    serialBaudrate: String(line.baud),
    serialDatabits: '8',
    serialStopbits: '1',
    serialParity: 'none',
    serialConnectionDelay: '100',
    serialAsciiResponseStartDelimiter: '0x3A',
    unit_id: '1',
    commandDelay: '1',
    clientTimeout: '1000',
    reconnectOnTimeout: true,
    reconnectTimeout: '2000',
    parallelUnitIdsAllowed: parallelUnitIds,
  };
}

/**
 * node-red-contrib-modbus: one `modbus-read` per point (holding registers, the point's address,
 * two registers for a float32, the period asked for), its topic `a<unit>/<point>`. The only
 * setting off its defaults is `showErrors`, which only logs each failed read as a node error so
 * a Catch node can count it. `parallelUnitIds: false` is the one change its users make once
 * every unit but one times out on a serial line: one unit's queue at a time.
 */
export function contribFlow(line: BenchLine, parallelUnitIds = true): FlowNode[] {
  const points = line.profile.points.filter((p) => p.role === 'measurement');
  const reads: FlowNode[] = line.units.flatMap((unit) =>
    points.map((p) => {
      if (p.function !== 3 || p.type !== 'f32' || p.wordOrder !== 'high-first' || p.byteOrder !== 'big')
        throw new Error(`bench profile point ${p.key}: expected an FC03 float32, ABCD`);
      return {
        id: `bench-a${unit}-${p.key}`,
        type: 'modbus-read',
        z: TAB,
        name: `a${unit} ${p.key}`,
        topic: `a${unit}/${p.key}`,
        showStatusActivities: false,
        logIOActivities: false,
        showErrors: true,
        unitid: String(unit),
        dataType: 'HoldingRegister',
        adr: String(p.pdu),
        quantity: String(p.count),
        rate: String(line.periodS),
        rateUnit: 's',
        delayOnStart: false,
        startDelayTime: '',
        server: 'bench-client',
        useIOFile: false,
        ioFile: '',
        useIOForPayload: false,
        emptyMsgOnFail: false,
        wires: [['bench-count'], []],
      };
    }),
  );
  const count = counter(line, 'decode and count', [
    "const [device, point] = msg.topic.split('/');",
    'const b = Buffer.alloc(4);',
    'b.writeUInt16BE(msg.payload[0], 0);',
    'b.writeUInt16BE(msg.payload[1], 2);',
    'if (same(b.readFloatBE(0), expected[point])) delivered(device);',
    'else c.wrong++;',
  ]);
  const errors: FlowNode[] = [
    {
      id: 'bench-catch',
      type: 'catch',
      z: TAB,
      name: 'read errors',
      scope: null,
      uncaught: false,
      wires: [['bench-count-errors']],
    },
    {
      id: 'bench-count-errors',
      type: 'function',
      z: TAB,
      name: 'count errors',
      func: [
        `const c = flow.get('counts') || ${EMPTY};`,
        "const why = String((msg.error && msg.error.message) || 'error');",
        'c.failed[why] = (c.failed[why] || 0) + 1;',
        "flow.set('counts', c);",
        'return null;',
      ].join('\n'),
      outputs: 1,
      wires: [[]],
    },
  ];
  return [
    tab('node-red-contrib-modbus'),
    contribClient(line, parallelUnitIds),
    ...reads,
    count,
    ...errors,
    ...countsEndpoint(),
  ];
}

/**
 * What happened between two readings of a flow's counters taken at wall-clock `fromMs` and
 * `toMs`. Points per second count the whole seconds between them only: a stack that delivers a
 * poll's points in one message would otherwise gain or lose a whole poll at each edge.
 */
export function between(a: Counts, b: Counts, fromMs: number, toMs: number) {
  const diff = (x: Record<string, number>, y: Record<string, number>) =>
    Object.fromEntries(
      Object.keys(y)
        .map((k) => [k, (y[k] ?? 0) - (x[k] ?? 0)] as const)
        .filter(([, n]) => n !== 0),
    );
  const first = Math.ceil(fromMs / 1000);
  const last = Math.floor(toMs / 1000);
  let inSeconds = 0;
  for (let s = first; s < last; s++) inSeconds += b.perSecond[s] ?? 0;
  return {
    delivered: b.delivered - a.delivered,
    seconds: Math.max(0, last - first),
    pointsPerSec: last > first ? inSeconds / (last - first) : 0,
    wrong: b.wrong - a.wrong,
    perDevice: diff(a.perDevice, b.perDevice),
    failed: diff(a.failed, b.failed),
  };
}
