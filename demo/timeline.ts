/**
 * The demo's scripted timeline. It counts from the moment every device has delivered a reading
 * (so a slow start on a loaded machine does not eat the story), and the demo acts it out
 * through the simulator's control interface and the broker.
 */
import type { Simulator } from '../hardware-sim/src/index.js';

export const SILENT = { device: 'stack1-dust', fromS: 8, forS: 10 };
export const BROKER_DOWN = { fromS: 14, forS: 7 };
export const CALIBRATION = { device: 'stack1-gas', fromS: 24, forS: 8 };
/** When everything the timeline shows has had time to show: the shortest run worth judging. */
export const TIMELINE_END_S = CALIBRATION.fromS + CALIBRATION.forS;

export interface Stage {
  sim: Simulator;
  broker: { stop(): Promise<void>; start(): Promise<void> };
  note(text: string): void;
}

interface Step {
  atS: number;
  act(s: Stage): void | Promise<void>;
}

const STEPS: Step[] = [
  {
    atS: SILENT.fromS,
    act: (s) => {
      s.note(`${SILENT.device} stops answering for ${SILENT.forS} s`);
      s.sim.control.inject({ kind: 'no-answer', device: SILENT.device, durationMs: SILENT.forS * 1000 });
    },
  },
  {
    atS: BROKER_DOWN.fromS,
    act: (s) => {
      s.note('broker stops (the gateway keeps logging; backlog grows)');
      return s.broker.stop();
    },
  },
  { atS: SILENT.fromS + SILENT.forS, act: (s) => s.note(`${SILENT.device} answers again`) },
  {
    atS: BROKER_DOWN.fromS + BROKER_DOWN.forS,
    act: (s) => {
      s.note('broker back (the gateway replays its backlog while live data keeps flowing)');
      return s.broker.start();
    },
  },
  {
    atS: CALIBRATION.fromS,
    act: (s) => {
      s.note(`${CALIBRATION.device} calibration starts for ${CALIBRATION.forS} s (readings flagged C)`);
      s.sim.control.setState(CALIBRATION.device, 'calibration', true, CALIBRATION.forS * 1000);
    },
  },
];

export const TIMELINE_TEXT = `${SILENT.device} goes silent at ${SILENT.fromS} s for ${SILENT.forS} s, the broker restarts at ${BROKER_DOWN.fromS} s, ${CALIBRATION.device} calibrates at ${CALIBRATION.fromS} s`;

/** Starts the timeline now; returns the way to cancel what has not happened yet. */
export function runTimeline(stage: Stage): () => void {
  const timers = STEPS.map((step) =>
    setTimeout(() => {
      Promise.resolve(step.act(stage)).catch((e: unknown) =>
        stage.note(`timeline step failed: ${String(e)}`),
      );
    }, step.atS * 1000),
  );
  return () => timers.forEach(clearTimeout);
}
