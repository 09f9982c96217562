/**
 * The composition root: builds the whole pipeline from a loaded site config. It is the only
 * place that creates real transports, the SQLite log and MQTT clients; everything below it
 * receives them (STYLE.md, "Depend on interfaces at the edges").
 *
 *   buses/devices -> Acquisition -> Log (durable, sequenced) -> MqttPublisher (own cursor)
 *                                     '-> processing (aggregates, limit events) -> Log
 */
import { systemClock, type Clock } from './core/clock.js';
import { childLogger, silentLogger, type Logger } from './core/logger.js';
import type { ReadingDraft } from './core/reading.js';
import { Acquisition, type AcquisitionControl, type AcquisitionHealth } from './acquisition/index.js';
import { ThreadedAcquisition } from './acquisition/threaded.js';
import { Admission, type AdmissionStatus } from './acquisition/admission.js';
import { createRequire } from 'node:module';
import type * as SerialPortModule from 'serialport';
import { acquisitionOptions } from './acquisition/from-config.js';
import type { TransportFactory } from './acquisition/transport/types.js';
import { pollingPlan, type LoadedConfig } from './config/index.js';
import { RECENT_ROWS, openLog, type Log } from './store/index.js';
import { CommitGroup } from './store/group.js';
import { MqttPublisher, type StopReason } from './uplink/mqtt/publisher.js';
import type { MqttUplinkOptions } from './uplink/mqtt/options.js';
import type { AcquisitionHealthMessage } from './uplink/mqtt/contract.js';
import { Processor } from './processing/engine.js';
import { LiveProcessing, runTicks } from './processing/live.js';
import { processingPlan } from './processing/plan.js';
import { QualityChecks } from './processing/quality.js';
import { clockSyncProbe } from './core/clock-sync.js';
import { Hj212Session } from './uplink/hj212/session.js';
import { hj212SessionOptions } from './uplink/hj212/from-config.js';
import {
  CommandRegistry,
  commandHandlerFor,
  registerGatewayCommands,
  type CommandHandler,
} from './uplink/commands/index.js';
import { watchClockSteps } from './uplink/commands/clock-step.js';
import { UartPmSource } from './acquisition/uart/source.js';
import { webPage, type WebServer } from './api/index.js';
import { CameraService, registerSnapshotCommand } from './cameras/index.js';
import { SiteIoController } from '../../firmware/src/controller.js';
import { ALERT_LEVELS, type AlertLevel } from '../../firmware/src/linkage.js';
import { registerSiteIoCommands } from '../../firmware/src/commands.js';
import { loadOfPlan, nodeRuntime, runtimeAdvice, type PlannedLoad } from './runtime-fit.js';

export interface GatewayDeps {
  clock?: Clock;
  logger?: Logger;
  /** Builds transports; default the Modbus transport. */
  transportFactory?: TransportFactory;
}

const requireCjs = createRequire(import.meta.url);

/**
 * Seconds of the site's polling the log holds in memory at least, when that is less than
 * RECENT_ROWS; never fewer than RECENT_MIN_ROWS rows.
 */
const RECENT_SECONDS = 60;
const RECENT_MIN_ROWS = 2048;

/**
 * The newest readings the log holds in memory for the readers that follow its head, for a site
 * polling `points` points at `readingsPerSec` in all: a minute of its polling (at least
 * RECENT_MIN_ROWS rows, at most RECENT_ROWS, which a site reaches from about 550 readings/s),
 * and two polls of every point more. A row costs about 75 bytes (66 of columns, 8 of a slot in
 * an array) once the ring has wrapped, so a small site, for which reading a lagging uplink's
 * backlog back from SQLite costs nothing measurable, keeps some 160 KB instead of 2.4 MB. At
 * high rates the ring is what admission's bound is sized against: when admission lets an
 * overloaded gateway's polls go again, every device polls at once, a burst of one poll of every
 * point on top of the backlog admission allows; beyond what the log holds the uplink reads its
 * backlog back from SQLite, which cost the saturated main thread about a tenth of its time with
 * 30 000 points (docs/store.md, "Reading what was just committed").
 */
export function recentRowsFor(points: number, readingsPerSec: number): number {
  const base = Math.min(RECENT_ROWS, Math.max(RECENT_MIN_ROWS, Math.ceil(readingsPerSec * RECENT_SECONDS)));
  return base + 2 * points;
}

/** The polling plan's size: every polled point of every device, and the readings a second they ask for. */
export function plannedLoad(loaded: LoadedConfig): PlannedLoad {
  return loadOfPlan(pollingPlan(loaded.config, loaded.profiles));
}

/** Maps the site config's MQTT section (with its secrets) onto the publisher's options. */
export function mqttOptions(loaded: LoadedConfig): MqttUplinkOptions | undefined {
  const m = loaded.config.uplinks.mqtt;
  if (!m) return undefined;
  // Same schema, same names: only the secrets and the gateway id are added here.
  const { password, tls, ...settings } = m;
  const options: MqttUplinkOptions = { ...settings, gatewayId: loaded.config.gateway.id };
  if (password) options.password = loaded.secrets.reveal(password);
  if (tls) {
    options.tls = {
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      ...(tls.cert === undefined ? {} : { cert: tls.cert }),
      ...(tls.key === undefined ? {} : { key: loaded.secrets.path(tls.key) }),
      insecureSkipVerifyInTestsOnly: tls.insecureSkipVerifyForTestsOnly,
    };
  }
  return options;
}

/** The acquisition engine's health, trimmed to what the platform needs to see. */
export function summariseHealth(h: AcquisitionHealth, admission?: AdmissionStatus): AcquisitionHealthMessage {
  const tx = (c: AcquisitionHealth['buses'][number] | AcquisitionHealth['devices'][number]) => ({
    requests: c.requests,
    timeouts: c.timeouts,
    crcErrors: c.crcErrors,
    exceptions: c.exceptions,
    badReplies: c.badReplies,
    lateReplies: c.lateReplies,
    latencyP95Ms: c.latencyMs?.p95 ?? null,
  });
  return {
    buses: h.buses.map((b) => ({ bus: b.bus, connected: b.connected, ...tx(b) })),
    devices: h.devices.map((d) => ({
      device: d.device,
      bus: d.bus,
      state: d.state,
      ...tx(d),
      polls: d.polls,
      failedPolls: d.failedPolls,
      overruns: d.overruns,
      lastGoodReplyTs: d.lastGoodReplyTs ?? null,
    })),
    ...(admission ? { admission } : {}),
  };
}

export class Gateway {
  readonly log: Log;
  readonly acquisition: AcquisitionControl;
  readonly uplinks = new Map<string, MqttPublisher>();
  readonly processing: LiveProcessing;
  private ticks?: AbortController;
  /** One HJ 212 session per platform, each with its own connection and cursor. */
  readonly hj212 = new Map<string, Hj212Session>();
  /** The site I/O controller (firmware/), when the config has a `siteIo` section. */
  readonly siteIo: SiteIoController | undefined;
  /** Commands from the platform; other modules register theirs (cameras: `snapshot`). */
  readonly commands = new CommandRegistry();
  private commandHandler: CommandHandler | undefined;
  /**
   * Holds acquisition back while the main thread is saturated and MQTT's live lane falls
   * behind (acquisition/admission.ts); only with an MQTT uplink.
   */
  readonly admission: Admission | undefined;
  /** Site cameras (`cameras`), when the config names any. */
  readonly cameras: CameraService | undefined;
  /** UART particulate sensors (`pmSensors`), keyed by device id. */
  readonly pmSensors = new Map<string, UartPmSource>();
  private readonly logger: Logger;
  private readonly clock: Clock;
  private running = false;
  /** The polling plan's points and readings/s: the log's recent rows and the check of node's flags are sized by it. */
  private readonly load: PlannedLoad;
  /** Readings accepted and not yet committed (store/group.ts). */
  private readonly group = new CommitGroup<ReadingDraft>((drafts) => this.commit(drafts));
  /** Whether the dust monitors poll at the high-wind period now (config `dust.highWind`). */
  private fastPolling = false;
  /** The local web page when the config has `web`; `webUrl` resolves once it listens. */
  web?: WebServer;
  webUrl?: Promise<string>;

  constructor(
    readonly loaded: LoadedConfig,
    deps: GatewayDeps = {},
  ) {
    const clock = deps.clock ?? systemClock;
    this.clock = clock;
    this.logger = deps.logger ?? silentLogger;
    const { storage } = loaded.config;
    const plan = processingPlan(loaded.config, loaded.profiles);
    this.load = plannedLoad(loaded);
    this.log = openLog({
      recentRows: recentRowsFor(plan.series.length, this.load.readingsPerSec),
      path: storage.path,
      quotaBytes: storage.quotaMb * 1024 * 1024,
      maxAgeMs: storage.retentionDays * 86_400_000,
      clock,
      logger: this.logger,
    });
    try {
      this.processing = new LiveProcessing(
        new Processor(plan),
        this.log,
        new QualityChecks(plan, plan.quality, clockSyncProbe(loaded.config.quality.clockSync, clock)),
      );
      const acqOptions = acquisitionOptions(loaded.config, loaded.profiles);
      // A thread polls with the system clock and the real transports; tests that pass their
      // own (deps.clock, deps.transportFactory) keep the engine in process.
      this.acquisition =
        loaded.config.gateway.acquisitionThread && !deps.transportFactory && !deps.clock
          ? new ThreadedAcquisition(acqOptions, {
              logger: this.logger,
              onReadings: (drafts) => this.accept(drafts),
              admission: { waitOpen: () => this.admission?.waitOpen() },
            })
          : new Acquisition(acqOptions, {
              clock,
              logger: this.logger,
              onReadings: (drafts) => this.accept(drafts),
              gate: (signal) => this.admission?.gate(signal),
              ...(deps.transportFactory ? { transportFactory: deps.transportFactory } : {}),
            });
      const mqtt = mqttOptions(loaded);
      if (mqtt) {
        const acquisitionHealth = () => summariseHealth(this.acquisition.health(), this.admission?.status());
        this.uplinks.set(
          'mqtt',
          new MqttPublisher(this.log, mqtt, {
            clock,
            logger: this.logger,
            acquisitionHealth,
            hj212Health: () => [...this.hj212.values()].map((h) => h.status()),
            processingHealth: () => this.processing.health(),
            camerasHealth: () => this.cameras?.health(),
          }),
        );
      }
      const publisher = this.uplinks.get('mqtt');
      if (publisher) {
        // Behind by two full windows of batches (the window alone is what a busy link holds), and
        // never by more than half what the log holds in memory: beyond that the uplink reads its
        // backlog back from the file, which costs the saturated main thread more still.
        const window = publisher.options.inFlight * publisher.options.batch.maxReadings;
        const highWater = Math.min(2 * window, RECENT_ROWS / 2);
        this.admission = new Admission({
          liveLag: () => publisher.liveLag(),
          highWater,
          lowWater: highWater / 2,
          logger: this.logger,
        });
      }
      const io = loaded.config.siteIo;
      this.siteIo = io
        ? new SiteIoController(io, {
            clock,
            logger: this.logger,
            accept: (drafts) => this.accept(drafts),
            appendEvent: (e) => this.log.appendEvent(e),
            alertLevel: () => alertLevel(this.log),
          })
        : undefined;
      const cams = loaded.config.cameras;
      this.cameras =
        Object.keys(cams).length === 0
          ? undefined
          : CameraService.fromConfig(
              cams,
              (_id, c) => ({ username: c.username, password: loaded.secrets.reveal(c.password) }),
              this.log,
              { clock, logger: childLogger(this.logger, 'camera') },
            );
      if (this.cameras) registerSnapshotCommand(this.commands, this.cameras);
      registerSiteIoCommands(this.commands, this.siteIo, io?.overrideMaxS ?? 0);
      if (publisher)
        this.commandHandler = commandHandlerFor(this.log, this.commands, publisher.options, {
          clock,
          logger: this.logger,
        });
      if (this.commandHandler) registerGatewayCommands(this.commands, this, clock);
      for (const [id, cfg] of Object.entries(loaded.config.pmSensors)) {
        this.pmSensors.set(
          id,
          new UartPmSource(id, cfg, {
            clock,
            logger: this.logger,
            open: (path, baudRate) => {
              // Loaded with the first UART sensor, as the Modbus serial links load it.
              const { SerialPort } = requireCjs('serialport') as typeof SerialPortModule;
              return new SerialPort({ path, baudRate });
            },
            accept: (drafts) => this.accept(drafts),
          }),
        );
      }
      for (const o of hj212SessionOptions(loaded)) {
        this.hj212.set(o.name, new Hj212Session(this.log, o, { clock, logger: this.logger }));
      }
    } catch (e) {
      this.log.close();
      throw e;
    }
  }

  /**
   * Readings are committed to the log before the uplinks see them; uplinks follow the log.
   * Every batch accepted in one turn of the event loop is committed in one transaction at its end,
   * or at once when the group reaches 500 readings (group commit, store/group.ts): the
   * replies of many devices that arrive together cost one commit, and nothing waits longer than
   * the turn. A bad batch is refused here, on its own, before it joins a group.
   * When the log cannot write (disk full, I/O error) it queues them in memory and retries by
   * itself; what overflows that queue is recorded as an `unlogged` event and counted in
   * `log.stats()`. Only an invalid batch reaches the poller as a sink error. The data-quality
   * checks add their reasons before the commit; processing then reads what the log committed,
   * so a queued batch reaches it only once written (docs/processing.md, "A full disk").
   */
  private accept(drafts: ReadingDraft[]): void {
    if (drafts.length === 0) return;
    if (this.siteIo) drafts = this.siteIo.flag(drafts);
    this.log.check(drafts);
    this.group.add(this.processing.annotate(drafts), !this.running);
  }

  /** Commits one group of accepted readings (see `accept`). */
  private commit(group: ReadingDraft[]): void {
    try {
      const queued = this.log.accept(group) === undefined;
      this.processing.follow(this.clock.now(), queued);
      this.followWind();
    } catch (e) {
      this.logger.error({ err: e, readings: group.length }, 'committing accepted readings failed');
    }
    this.siteIo?.observe(group);
  }

  /**
   * In high wind (processing's `high_wind` state, on the record as events) the dust monitors and
   * the wind's device poll at `dust.highWind.periodMs`; their readings go out on `data` as soon as
   * they are logged, so reporting speeds up with them. Back to their own periods when it ends.
   */
  private followWind(): void {
    const dust = this.processing.processor.plan.dust;
    const windy = this.processing.processor.highWind;
    if (!dust?.highWind || windy === this.fastPolling) return;
    this.fastPolling = windy;
    for (const d of dust.fastDevices)
      this.acquisition.setPeriod(d, windy ? dust.highWind.periodMs : undefined);
    this.logger.info(
      { devices: dust.fastDevices, windy },
      windy ? 'high wind: faster polling' : 'high wind over',
    );
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const rebuilt = this.processing.rebuild(this.clock.now());
    this.followWind();
    this.ticks = new AbortController();
    void runTicks(this.processing, this.clock, this.ticks.signal, (e) =>
      this.logger.error({ err: e }, 'processing could not append aggregates'),
    );
    void watchClockSteps(this.clock, this.ticks.signal, (step) => {
      this.logger.warn(step, 'the wall clock stepped');
      try {
        this.log.appendEvent({ ts: step.after, kind: 'clock_step', payload: { ...step } });
      } catch (e) {
        this.logger.error({ err: e }, 'cannot record the clock step');
      }
    });
    for (const u of this.uplinks.values()) u.start();
    this.admission?.start();
    this.commandHandler?.start();
    for (const h of this.hj212.values()) h.start();
    this.acquisition.start();
    this.siteIo?.start();
    for (const s of this.pmSensors.values()) s.start();
    this.cameras?.start();
    this.web = webPage(this, childLogger(this.logger, 'api'));
    this.webUrl = this.web?.listen();
    this.logger.info(
      {
        gateway: this.loaded.config.gateway.id,
        lastSeq: this.log.lastSeq,
        uplinks: [...this.uplinks.keys()],
        rebuilt,
      },
      'gateway started',
    );
    // node's flags against README.md's rules for this site (deploy/lantian.service starts a small site's).
    for (const a of runtimeAdvice(nodeRuntime(), this.load)) this.logger.warn({ rule: a.rule }, a.message);
  }

  /**
   * Stops polling first (so nothing new arrives), gives connected uplinks up to `drainMs` to
   * deliver what is logged, then stops them and closes the log. Whatever is still undelivered
   * stays in the log behind the cursor and goes out after the next start.
   */
  async stop(drainMs = 5000, reason: StopReason = 'stopped'): Promise<void> {
    if (!this.running) {
      this.log.close();
      return;
    }
    this.running = false;
    await this.web?.close();
    // Polls held back now would only hold the stop up: let them go, and hold no more.
    this.admission?.stop();
    await this.acquisition.stop();
    await this.siteIo?.stop();
    await Promise.all([...this.pmSensors.values()].map((s) => s.stop()));
    await this.cameras?.stop();
    this.group.flush();
    this.ticks?.abort();
    const deadline = this.clock.monotonic() + drainMs;
    const pending = () =>
      [...this.uplinks.values()].some((u) => {
        const s = u.status();
        return s.connected && (s.backlog > 0 || s.inFlight > 0);
      });
    while (pending() && this.clock.monotonic() < deadline) await this.clock.sleep(50);
    await this.commandHandler?.stop();
    await Promise.all([...this.uplinks.values()].map((u) => u.stop(reason)));
    await Promise.all([...this.hj212.values()].map((h) => h.stop()));
    await this.acquisition.close();
    this.log.close();
    this.logger.info('gateway stopped');
  }
}

/** The alert level the platform set last (an `alert_level` event); none without one. */
export function alertLevel(log: Log): AlertLevel {
  const payload = log.latestEvent('alert_level')?.payload as
    { level?: unknown; detail?: { level?: unknown } } | null | undefined;
  const level = payload?.level ?? payload?.detail?.level;
  return ALERT_LEVELS.includes(level as AlertLevel) ? (level as AlertLevel) : 'none';
}
