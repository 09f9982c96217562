/**
 * One physical line shared by every `lantian device` node on it: the engine's own Bus (one
 * transaction at a time, silences, reconnects) with one DevicePoller per device node. Device
 * nodes come and go with deploys, so pollers are added and removed one by one instead of
 * building a whole Acquisition at once.
 */
import { systemClock, type Clock } from '../../gateway/src/core/clock.js';
import { LantianError } from '../../gateway/src/core/errors.js';
import type { Logger } from '../../gateway/src/core/logger.js';
import type { ReadingDraft } from '../../gateway/src/core/reading.js';
import type { Bus } from '../../gateway/src/acquisition/bus.js';
import {
  createBus,
  createPoller,
  validateOptions,
  type BusConfig,
  type DeviceOptions,
} from '../../gateway/src/acquisition/engine.js';
import type { DeviceHealth } from '../../gateway/src/acquisition/health.js';
import type { DevicePoller } from '../../gateway/src/acquisition/scheduler.js';
import type { TransportFactory } from '../../gateway/src/acquisition/transport/types.js';

export type LineConfig = Omit<BusConfig, 'devices'>;

interface Attached {
  options: DeviceOptions;
  poller: DevicePoller;
  abort: AbortController;
  loop: Promise<void>;
}

export interface LineHubDeps {
  logger?: Logger;
  clock?: Clock;
  /** Tests pass in-memory transports; default the engine's Modbus transport. */
  transportFactory?: TransportFactory;
}

export class LineHub {
  private readonly bus: Bus;
  private readonly devices = new Map<string, Attached>();
  private closed = false;

  constructor(
    readonly config: LineConfig,
    private readonly deps: LineHubDeps = {},
  ) {
    this.bus = createBus(config, deps);
  }

  /**
   * Starts polling a device on this line; its readings go to `onReadings` once per poll. Refused
   * (ACQ_OPTIONS_INVALID) when the id or unit id is already on the line, or the options are out
   * of range.
   */
  attach(options: DeviceOptions, onReadings: (drafts: ReadingDraft[]) => void): void {
    if (this.closed) throw new LantianError('ACQ_ABORTED', `line ${this.config.name} is closed`);
    validateOptions({
      buses: [{ ...this.config, devices: [...[...this.devices.values()].map((d) => d.options), options] }],
    });
    const poller = createPoller(this.bus, this.config, options, { ...this.deps, onReadings });
    const abort = new AbortController();
    const loop = poller.run(abort.signal, (this.deps.clock ?? systemClock).monotonic());
    this.devices.set(options.id, { options, poller, abort, loop });
  }

  /** Stops a device's polling; resolves when its loop has ended. */
  async detach(id: string): Promise<void> {
    const d = this.devices.get(id);
    if (!d) return;
    this.devices.delete(id);
    d.abort.abort();
    await d.loop;
  }

  health(id: string): DeviceHealth | undefined {
    return this.devices.get(id)?.poller.health();
  }

  busHealth(): ReturnType<Bus['health']> {
    return this.bus.health();
  }

  /** Stops every device and closes the link. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.devices.values()];
    this.devices.clear();
    for (const d of all) d.abort.abort();
    await this.bus.close();
    await Promise.all(all.map((d) => d.loop));
  }
}
