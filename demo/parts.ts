/**
 * Parts of the demo beyond the core data path (processing, HJ 212, ...): each lives in its own
 * file, demo/<area>.ts, and is listed once in main.ts. A part may change the site config before
 * the gateway starts, start what it shows once the site is up, and add lines to the verdict.
 */
import type { Simulator } from '../hardware-sim/src/index.js';
import type { PlatformWitness } from '../hardware-sim/src/platform/index.js';
import type { Raw } from './site.js';

export interface DemoContext {
  sim: Simulator;
  /** The embedded MQTT broker's URL. */
  brokerUrl: string;
  platform: PlatformWitness;
  /** The run's temporary directory (site config, log, gateway log). */
  dir: string;
  /** Adds a line to the timeline. */
  note(text: string): void;
}

/** One line of the verdict; `ok: undefined` when the run stopped before it could be judged. */
export interface Check {
  ok: boolean | undefined;
  text: string;
}

export interface DemoPart {
  name: string;
  /** Changes the site config the gateway will run with. */
  configure?(raw: Raw, ctx: DemoContext): void;
  /** Runs once every device has delivered (the timeline's zero). */
  start?(ctx: DemoContext): void | Promise<void>;
  /** Lines of the verdict, once the gateway has stopped. `ranForS` counts from the timeline's zero. */
  verdict?(ctx: DemoContext, ranForS: number): Check[] | Promise<Check[]>;
  /** Stops what the part started. */
  stop?(): void | Promise<void>;
}
