/**
 * The broker the gateway publishes to: a Mosquitto of our own on a free 127.0.0.1 port when
 * `mosquitto` is installed, else the embedded Aedes broker in a process of its own, so neither
 * shares the gateway's or the benchmark's event loop.
 */
import { existsSync } from 'node:fs';
import { delimiter } from 'node:path';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../gateway/src/uplink/mqtt/broker.js';
import { mosquittoBinary, startMosquitto } from '../../test/helpers/broker.js';
import { Child, serve } from './child.js';
import { childNamed } from '../procfs.js';

export interface BenchBroker {
  kind: 'mosquitto' | 'aedes';
  url: string;
  /** Its process, for its CPU use; undefined if it could not be found. */
  pid: number | undefined;
  close(): Promise<void>;
}

export async function startBroker(): Promise<BenchBroker> {
  // Debian installs mosquitto in /usr/sbin, which not every user has on PATH.
  if (!mosquittoBinary() && existsSync('/usr/sbin/mosquitto')) process.env.PATH += `${delimiter}/usr/sbin`;
  if (mosquittoBinary()) {
    const m = await startMosquitto();
    return { kind: 'mosquitto', url: m.url, pid: childNamed('mosquitto'), close: () => m.close() };
  }
  const child = Child.fork(import.meta.url);
  const url = await child.call<string>({ op: 'start' });
  return { kind: 'aedes', url, pid: child.pid, close: () => child.stop() };
}

function child(): void {
  let broker: EmbeddedBroker | undefined;
  serve(async (r) => {
    if (r.op === 'start') {
      broker = await startEmbeddedBroker({ port: 0 });
      return broker.url;
    }
    if (r.op === 'stop') await broker?.close();
    return undefined;
  });
}

if (process.argv[2] === 'child') child();
