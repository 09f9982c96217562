import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSiteConfig } from '../../../gateway/src/config/index.js';
import { acquisitionOptions } from '../../../gateway/src/acquisition/from-config.js';
import { Acquisition } from '../../../gateway/src/acquisition/engine.js';

const example = fileURLToPath(new URL('../../../examples/site.yaml', import.meta.url));

describe('acquisition options from the site config', () => {
  const loaded = loadSiteConfig(example);
  const options = acquisitionOptions(loaded.config, loaded.profiles);
  const bus = (name: string) => options.buses.find((b) => b.name === name)!;

  it('maps every bus kind onto a link with its line settings', () => {
    expect(bus('stack1-485').link).toEqual({
      kind: 'rtu-tcp',
      host: '192.168.10.20',
      port: 20108,
      line: { baud: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
    });
    expect(bus('lab-tcp').link).toEqual({ kind: 'tcp', host: '192.168.10.31', port: 502, maxInFlight: 1 });
    expect(bus('site-485').link).toMatchObject({ kind: 'rtu', path: '/dev/ttyUSB0', line: { baud: 9600 } });
    expect(bus('stack1-485').reconnect).toMatchObject({
      initialMs: 1000,
      connectTimeoutMs: 3000,
      maxMs: 30_000,
    });
  });

  it('carries periods, timeouts, retries and the device overrides into the profile the engine uses', () => {
    const gas = bus('stack1-485').devices.find((d) => d.id === 'stack1-gas')!;
    expect(gas).toMatchObject({ unitId: 1, periodMs: 5000, timeoutMs: 1000, retries: 1 });
    expect(gas.points).toContain('so2');
    expect(gas.points).not.toContain('so2_slope'); // info points are read on demand only
    const dust = bus('site-485').devices.find((d) => d.id === 'site-dust')!;
    expect(dust.profile.quirks.minGapMs).toBe(50);
  });

  it('builds an engine whose plans cover every polled point', () => {
    const engine = new Acquisition(options, { onReadings: () => undefined });
    for (const { device, reads } of engine.plans()) {
      const d = options.buses.flatMap((b) => b.devices).find((x) => x.id === device)!;
      const covered = new Set(reads.flatMap((r) => r.keys));
      for (const key of d.points ?? []) expect(covered.has(key), `${device}/${key}`).toBe(true);
    }
  });

  it('keeps only the devices asked for', () => {
    const only = acquisitionOptions(loaded.config, loaded.profiles, { devices: ['lab-so2'] });
    expect(only.buses.map((b) => b.name)).toEqual(['lab-tcp']);
  });
});
