/**
 * Modbus RTU on a real pseudo-terminal: the gateway's RTU transport (connectRTUBuffered) on one
 * end, a hand-written RTU responder on the other.
 */
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import { ModbusTransport } from '../../../gateway/src/acquisition/transport/modbus.js';
import { parseRtuRequest, registersPdu, withCrc } from '../../fixtures/acquisition/frames.js';
import { ptyPair } from '../../fixtures/acquisition/pty.js';
import { requireTool } from '../../helpers/tools.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function device(path: string, answer: (frame: Buffer) => Buffer | undefined): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  let pending = Buffer.alloc(0);
  port.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    if (pending.length < 8) return;
    const frame = pending.subarray(0, 8);
    pending = pending.subarray(8);
    const reply = answer(frame);
    if (reply) port.write(reply);
  });
  cleanup.push(() => new Promise((r) => port.close(() => r())));
  return port;
}

describe('RTU on a pty', () => {
  requireTool('socat').it('reads registers, maps an exception, and times out on a silent unit', async () => {
    const pty = await ptyPair();
    cleanup.push(() => pty.close());
    await device(pty.b, (frame) => {
      const r = parseRtuRequest(frame);
      if (r.unitId === 9) return undefined;
      if (r.address >= 100) return withCrc([r.unitId, 0x80 | r.fn, 2]);
      return withCrc([
        r.unitId,
        ...registersPdu(
          r.fn,
          Array.from({ length: r.count }, (_, i) => r.address + i),
        ),
      ]);
    });
    const t = new ModbusTransport({ kind: 'rtu', path: pty.a, line: { baud: 9600 } });
    cleanup.push(() => t.close());
    await t.open(2000);
    expect(await t.read({ unitId: 1, function: 3, address: 10, count: 4 }, 1000)).toEqual([10, 11, 12, 13]);
    expect(await t.read({ unitId: 2, function: 4, address: 0, count: 1 }, 1000)).toEqual([0]);
    const exception = await t
      .read({ unitId: 1, function: 3, address: 100, count: 1 }, 1000)
      .catch((e: unknown) => e);
    expect(isLantianError(exception, 'MODBUS_EXCEPTION') && exception.context.exceptionCode).toBe(2);
    const silent = await t
      .read({ unitId: 9, function: 3, address: 0, count: 1 }, 200)
      .catch((e: unknown) => e);
    expect(isLantianError(silent, 'TRANSPORT_TIMEOUT')).toBe(true);
    expect(await t.read({ unitId: 1, function: 3, address: 0, count: 2 }, 1000)).toEqual([0, 1]);
  });

  it('reports a missing serial port as TRANSPORT_CONNECT_FAILED', async () => {
    const t = new ModbusTransport({
      kind: 'rtu',
      path: '/dev/lantian-no-such-port',
      line: { baud: 9600 },
    });
    const err = await t.open(2000).catch((e: unknown) => e);
    expect(isLantianError(err, 'TRANSPORT_CONNECT_FAILED')).toBe(true);
  });
});
