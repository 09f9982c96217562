/**
 * The Modbus transports over real sockets, against hand-built frames: good frames
 * round-trip, broken ones map to the right error code, and the pitfalls the wrapper exists for
 * (no default timeout, stale input, a drop mid-request) are covered.
 */
import { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import { ModbusTransport } from '../../../gateway/src/acquisition/transport/modbus.js';
import type { ReadFrame } from '../../../gateway/src/acquisition/transport/types.js';
import {
  bitsPdu,
  parseRtuRequest,
  rawServer,
  registersPdu,
  withCrc,
  type RawServer,
  type RtuRequest,
} from '../../fixtures/acquisition/frames.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const read3: ReadFrame = { unitId: 7, function: 3, address: 10, count: 2 };

async function outcome(
  p: Promise<number[]>,
): Promise<{ data?: number[]; code?: string; exceptionCode?: unknown }> {
  try {
    return { data: await p };
  } catch (e) {
    if (!isLantianError(e)) throw e;
    return { code: e.code, exceptionCode: e.context.exceptionCode };
  }
}

/** An open transport of `kind` to `srv`, closed (with the server) after the test. */
async function connectTo(srv: RawServer, kind: 'tcp' | 'rtu-tcp') {
  const t = new ModbusTransport({ kind, host: '127.0.0.1', port: srv.port });
  await t.open(2000);
  cleanup.push(
    () => srv.close(),
    () => t.close(),
  );
  return { t, srv };
}

/** A device server speaking raw RTU over TCP; `answer` builds the bytes sent back (or nothing). */
async function rtuOverTcp(answer: (req: RtuRequest, sock: Socket) => Buffer | undefined) {
  const srv: RawServer = await rawServer((sock, data) => {
    const reply = answer(parseRtuRequest(data), sock);
    if (reply) sock.write(reply);
  });
  return connectTo(srv, 'rtu-tcp');
}

/** A Modbus TCP server; `answer` returns the PDU-with-unit body (unit, fn, ...) or nothing. */
async function modbusTcp(answer: (req: RtuRequest) => number[] | undefined) {
  const srv = await rawServer((sock, data) => {
    const tid = data.readUInt16BE(0);
    const body = answer(parseRtuRequest(data.subarray(6)));
    if (!body) return;
    const head = Buffer.alloc(6);
    head.writeUInt16BE(tid, 0);
    head.writeUInt16BE(body.length, 4);
    sock.write(Buffer.concat([head, Buffer.from(body)]));
  });
  return connectTo(srv, 'tcp');
}

describe('RTU over TCP: frames to error codes', () => {
  const words = [0x41a7, 0x3333];
  const cases: [
    string,
    (r: RtuRequest) => Buffer | undefined,
    { data?: number[]; code?: string; exceptionCode?: number },
  ][] = [
    ['a good reply round-trips', (r) => withCrc([r.unitId, ...registersPdu(3, words)]), { data: words }],
    [
      'garbage before a good reply is skipped',
      (r) => Buffer.concat([Buffer.from([0x00, 0xff, 0x13]), withCrc([r.unitId, ...registersPdu(3, words)])]),
      { data: words },
    ],
    [
      'a bad CRC is MODBUS_CRC',
      (r) => {
        const f = withCrc([r.unitId, ...registersPdu(3, words)]);
        f[f.length - 1]! ^= 0xff;
        return f;
      },
      { code: 'MODBUS_CRC' },
    ],
    [
      'a truncated reply times out',
      (r) => withCrc([r.unitId, ...registersPdu(3, words)]).subarray(0, 6),
      { code: 'TRANSPORT_TIMEOUT' },
    ],
    [
      'a reply from another unit id times out',
      () => withCrc([9, ...registersPdu(3, words)]),
      { code: 'TRANSPORT_TIMEOUT' },
    ],
    ['no reply at all times out', () => undefined, { code: 'TRANSPORT_TIMEOUT' }],
    ...[1, 2, 3, 4, 5, 6, 10, 11].map(
      (x): [string, (r: RtuRequest) => Buffer, { code: string; exceptionCode: number }] => [
        `exception ${x} is MODBUS_EXCEPTION with its code`,
        (r) => withCrc([r.unitId, 0x83, x]),
        { code: 'MODBUS_EXCEPTION', exceptionCode: x },
      ],
    ),
  ];

  it.each(cases)('%s', async (_name, answer, expected) => {
    const { t } = await rtuOverTcp(answer);
    expect(await outcome(t.read(read3, 150))).toMatchObject(expected);
  });

  it('reads coils as 0/1, exactly as many as asked', async () => {
    const { t } = await rtuOverTcp((r) => withCrc([r.unitId, ...bitsPdu(1, [1, 0, 1, 1, 0, 0, 0, 0, 1, 1])]));
    expect(await t.read({ unitId: 7, function: 1, address: 0, count: 10 }, 500)).toEqual([
      1, 0, 1, 1, 0, 0, 0, 0, 1, 1,
    ]);
  });

  it('discards a reply that arrives after its request timed out; the next request gets its own', async () => {
    let n = 0;
    const { t } = await rtuOverTcp((r, sock) => {
      n++;
      const reply = withCrc([r.unitId, ...registersPdu(3, n === 1 ? [1, 1] : [2, 2])]);
      if (n === 1) {
        setTimeout(() => sock.write(reply), 600); // well after the 100 ms timeout
        return undefined;
      }
      setTimeout(() => sock.write(reply), 40);
      return undefined;
    });
    const late: unknown[] = [];
    t.onLateReply?.((r) => late.push(r));
    expect(await outcome(t.read(read3, 100))).toMatchObject({ code: 'TRANSPORT_TIMEOUT' });
    await new Promise((r) => setTimeout(r, 800)); // the late reply has arrived meanwhile
    expect(late).toMatchObject([{ unitId: 7, function: 3 }]);
    expect(await t.read(read3, 500)).toEqual([2, 2]);
  });

  it('drops the leftover of a truncated reply, so the next request reads cleanly', async () => {
    let n = 0;
    const { t } = await rtuOverTcp((r) => {
      const reply = withCrc([r.unitId, ...registersPdu(3, ++n === 1 ? [1, 1] : [2, 2])]);
      return n === 1 ? reply.subarray(0, 5) : reply;
    });
    expect(await outcome(t.read(read3, 60))).toMatchObject({ code: 'TRANSPORT_TIMEOUT' });
    expect(await t.read(read3, 500)).toEqual([2, 2]);
    expect(await t.read(read3, 500)).toEqual([2, 2]);
  });

  it('fails a pending read with TRANSPORT_CLOSED as soon as the link drops, not at the timeout', async () => {
    const dropped: number[] = [];
    const { t } = await rtuOverTcp((_r, sock) => {
      setTimeout(() => sock.destroy(), 30);
      return undefined;
    });
    t.onDrop(() => dropped.push(1));
    const started = performance.now();
    expect(await outcome(t.read(read3, 5000))).toMatchObject({ code: 'TRANSPORT_CLOSED' });
    expect(performance.now() - started).toBeLessThan(2500);
    expect(dropped).toEqual([1]);
    expect(t.isOpen).toBe(false);
    expect(await outcome(t.read(read3, 100))).toMatchObject({ code: 'TRANSPORT_CLOSED' });
  });
});

describe('Modbus TCP: frames to error codes', () => {
  const words = [0x1234, 0x5678];
  const cases: [
    string,
    (r: RtuRequest) => number[] | undefined,
    { data?: number[]; code?: string; exceptionCode?: number },
  ][] = [
    ['a good reply round-trips', (r) => [r.unitId, ...registersPdu(3, words)], { data: words }],
    [
      'an exception is MODBUS_EXCEPTION with its code',
      (r) => [r.unitId, 0x83, 2],
      { code: 'MODBUS_EXCEPTION', exceptionCode: 2 },
    ],
    [
      'a reply from another unit id is MODBUS_BAD_REPLY',
      () => [9, ...registersPdu(3, words)],
      { code: 'MODBUS_BAD_REPLY' },
    ],
    [
      'a reply with another function is MODBUS_BAD_REPLY',
      (r) => [r.unitId, ...registersPdu(4, words)],
      { code: 'MODBUS_BAD_REPLY' },
    ],
    [
      'a reply of the wrong length is MODBUS_BAD_REPLY',
      (r) => [r.unitId, ...registersPdu(3, [1])],
      { code: 'MODBUS_BAD_REPLY' },
    ],
    ['no reply times out', () => undefined, { code: 'TRANSPORT_TIMEOUT' }],
  ];

  it.each(cases)('%s', async (_name, answer, expected) => {
    const { t } = await modbusTcp(answer);
    expect(await outcome(t.read(read3, 150))).toMatchObject(expected);
  });

  it('tells a late reply by its transaction id: never the next answer, reported as late', async () => {
    const held: Buffer[] = [];
    const srv = await rawServer((sock, data) => {
      const tid = data.readUInt16BE(0);
      const r = parseRtuRequest(data.subarray(6));
      const body = [r.unitId, ...registersPdu(3, [tid, tid])];
      const head = Buffer.alloc(6);
      head.writeUInt16BE(tid, 0);
      head.writeUInt16BE(body.length, 4);
      const reply = Buffer.concat([head, Buffer.from(body)]);
      // The first request is answered only together with the second: late, and first on the wire.
      if (held.length === 0) held.push(reply);
      else sock.write(Buffer.concat([held[0]!, reply]));
    });
    const { t } = await connectTo(srv, 'tcp');
    const late: unknown[] = [];
    t.onLateReply?.((r) => late.push(r));
    expect(await outcome(t.read(read3, 100))).toMatchObject({ code: 'TRANSPORT_TIMEOUT' });
    const second = await t.read(read3, 500);
    expect(second[0]).toBe(second[1]);
    expect(second[0]).not.toBe(held[0]!.readUInt16BE(0));
    expect(late).toMatchObject([{ unitId: 7, function: 3 }]);
  });

  it('keeps several reads in flight with maxInFlight: one segment out, each answer to its own read', async () => {
    const chunks: Buffer[] = [];
    const srv = await rawServer((sock, data) => {
      chunks.push(data);
      // Every request of the chunk, answered in reverse order in one write: unit id and tid echoed.
      const replies: Buffer[] = [];
      for (let at = 0; at + 6 <= data.length; at += 6 + data.readUInt16BE(at + 4)) {
        const tid = data.readUInt16BE(at);
        const r = parseRtuRequest(data.subarray(at + 6, at + 6 + data.readUInt16BE(at + 4)));
        const body = [r.unitId, ...registersPdu(3, [r.unitId, tid])];
        const head = Buffer.alloc(6);
        head.writeUInt16BE(tid, 0);
        head.writeUInt16BE(body.length, 4);
        replies.unshift(Buffer.concat([head, Buffer.from(body)]));
      }
      sock.write(Buffer.concat(replies));
    });
    const t = new ModbusTransport({ kind: 'tcp', host: '127.0.0.1', port: srv.port, maxInFlight: 4 });
    await t.open(2000);
    cleanup.push(
      () => srv.close(),
      () => t.close(),
    );
    // What each socket write of this process hands to the system: the byte lengths of its chunks.
    const writes: number[][] = [];
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the stream's internal write hooks
    const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...a: any[]) => unknown>;
    const { _write: single, _writev: many } = proto;
    proto._write = function (this: unknown, chunk: Buffer, ...rest: unknown[]) {
      writes.push([chunk.length]);
      return single.call(this, chunk, ...rest);
    };
    proto._writev = function (this: unknown, list: { chunk: Buffer }[], ...rest: unknown[]) {
      writes.push(list.map((c) => c.chunk.length));
      return many.call(this, list, ...rest);
    };
    const units = [11, 12, 13, 14];
    let answers: number[][];
    try {
      answers = await Promise.all(units.map((unitId) => t.read({ ...read3, unitId }, 1000)));
    } finally {
      proto._write = single;
      proto._writev = many;
    }
    expect(answers.map((a) => a[0])).toEqual(units);
    expect(new Set(answers.map((a) => a[1])).size).toBe(4);
    // The four requests of one turn left in one write (the server's one reply is the other).
    expect(writes).toEqual([[12, 12, 12, 12], [4 * 13]]);
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.length).toBe(4 * 12);
  });

  it('fails every read in flight with TRANSPORT_CLOSED when the link drops', async () => {
    const srv = await rawServer((sock) => sock.destroy());
    const t = new ModbusTransport({ kind: 'tcp', host: '127.0.0.1', port: srv.port, maxInFlight: 3 });
    await t.open(2000);
    cleanup.push(
      () => srv.close(),
      () => t.close(),
    );
    const started = performance.now();
    const results = await Promise.all([1, 2, 3].map((unitId) => outcome(t.read({ ...read3, unitId }, 5000))));
    expect(results).toEqual(Array(3).fill({ code: 'TRANSPORT_CLOSED', exceptionCode: undefined }));
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('reports a refused connection as TRANSPORT_CONNECT_FAILED', async () => {
    const srv = await rawServer(() => undefined);
    const port = srv.port;
    await srv.close();
    const t = new ModbusTransport({ kind: 'tcp', host: '127.0.0.1', port });
    const err = await t.open(2000).catch((e: unknown) => e);
    expect(isLantianError(err, 'TRANSPORT_CONNECT_FAILED')).toBe(true);
    expect(t.isOpen).toBe(false);
  });

  it('reads a real modbus-serial ServerTCP, and a second open after close works', async () => {
    const ModbusSerial = (await import('modbus-serial')).default;
    const server = new ModbusSerial.ServerTCP(
      { getInputRegister: (addr: number) => addr * 2, getHoldingRegister: (addr: number) => addr + 1 },
      { host: '127.0.0.1', port: '0' as unknown as number, unitID: 3 },
    );
    await new Promise((r) => server.on('initialized', r));
    cleanup.push(() => new Promise((r) => server.close(() => r(undefined))));
    const port = (server as unknown as { _server: { address(): { port: number } } })._server.address().port;
    const t = new ModbusTransport({ kind: 'tcp', host: '127.0.0.1', port });
    cleanup.push(() => t.close());
    await t.open(2000);
    expect(await t.read({ unitId: 3, function: 4, address: 5, count: 3 }, 500)).toEqual([10, 12, 14]);
    await t.close();
    await t.open(2000);
    expect(await t.read({ unitId: 3, function: 3, address: 0, count: 2 }, 500)).toEqual([1, 2]);
    // Another unit id is ignored by this server: the read must time out, not hang.
    expect(await outcome(t.read({ unitId: 4, function: 3, address: 0, count: 2 }, 100))).toMatchObject({
      code: 'TRANSPORT_TIMEOUT',
    });
  });
});
