/**
 * Gateway cameras against simulated cameras over real sockets: digest-protected snapshots in the
 * Hikvision and Dahua styles and through ONVIF GetSnapshotUri, and each fault a site shows, with
 * its error code, the camera offline in health and an event in the log, then online again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decode } from 'jpeg-js';
import { Camera, type CameraConfig } from '../../../gateway/src/config/schema-cameras.js';
import { CameraClient, CameraService } from '../../../gateway/src/cameras/index.js';
import { systemClock } from '../../../gateway/src/core/clock.js';
import { silentLogger } from '../../../gateway/src/core/logger.js';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import {
  startCamera,
  type SimCamera,
  type SimCameraOptions,
} from '../../../hardware-sim/src/camera/index.js';
import { useTempLog } from '../../helpers/temp-log.js';

const cameras: SimCamera[] = [];
afterEach(async () => {
  await Promise.all(cameras.splice(0).map((c) => c.close()));
});

async function sim(o: Partial<SimCameraOptions> = {}): Promise<SimCamera> {
  const c = await startCamera({
    id: 'gate',
    style: 'hikvision',
    username: 'admin',
    password: 'Gate#2026',
    ...o,
  });
  cameras.push(c);
  return c;
}

function client(c: SimCamera, extra: Record<string, unknown> = {}, password = 'Gate#2026'): CameraClient {
  const config: CameraConfig = Camera.parse({
    protocol: c.options.style,
    url: c.url,
    password: { secret: 'cam' },
    ...extra,
  });
  return new CameraClient(c.id, config, { username: 'admin', password }, () => Date.now());
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isLantianError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a CAMERA_* error');
}

describe('snapshots over HTTP digest', () => {
  for (const style of ['hikvision', 'dahua'] as const) {
    it(`takes the ${style} picture behind digest auth, byte for byte what the camera served`, async () => {
      const c = await sim({ style, frames: { frameMs: 100 } });
      const cam = client(c);
      const first = await cam.take();
      expect(first.contentType).toBe('image/jpeg');
      expect(first.bytes.equals(c.served.at(-1)!.jpeg)).toBe(true);
      const img = decode(first.bytes, { useTArray: true });
      expect([img.width, img.height]).toEqual([160, 120]);
      await new Promise((r) => setTimeout(r, 250));
      const second = await cam.take();
      expect(second.bytes.equals(first.bytes)).toBe(false);
      // The second picture answered the kept challenge: no new 401 round trip.
      expect(c.stats()).toMatchObject({ snapshots: 2, authFailures: 0, requests: 3 });
    });
  }

  it('refuses a wrong password with CAMERA_AUTH after one fresh challenge', async () => {
    const c = await sim();
    expect(await codeOf(client(c, {}, 'wrong').take())).toBe('CAMERA_AUTH');
    expect(c.stats().snapshots).toBe(0);
  });

  it('cuts off a camera that never answers with CAMERA_TIMEOUT', async () => {
    const c = await sim({ fault: 'timeout' });
    const t0 = Date.now();
    expect(await codeOf(client(c, { timeoutMs: 600 }).take())).toBe('CAMERA_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('reports a server error as CAMERA_HTTP with its status', async () => {
    const c = await sim({ fault: 'server-error' });
    await expect(client(c).take()).rejects.toMatchObject({ code: 'CAMERA_HTTP', context: { status: 500 } });
  });

  it('cuts off a picture that trickles past the deadline, and takes one that trickles within it', async () => {
    const slow = await sim({ fault: 'trickle', trickle: { bytes: 16, everyMs: 100 } });
    expect(await codeOf(client(slow, { timeoutMs: 800 }).take())).toBe('CAMERA_TIMEOUT');
    const fast = await sim({ fault: 'trickle', trickle: { bytes: 1024, everyMs: 20 } });
    const picture = await client(fast, { timeoutMs: 20_000 }).take();
    expect(picture.bytes.equals(fast.served.at(-1)!.jpeg)).toBe(true);
  });

  it('refuses a picture over maxBytes with CAMERA_BAD_IMAGE', async () => {
    const c = await sim();
    expect(await codeOf(client(c, { maxBytes: 1024 }).take())).toBe('CAMERA_BAD_IMAGE');
  });

  it('says CAMERA_UNREACHABLE for a camera nobody listens for', async () => {
    const c = await sim();
    const cam = client(c);
    await c.close();
    cameras.splice(cameras.indexOf(c), 1);
    expect(await codeOf(cam.take())).toBe('CAMERA_UNREACHABLE');
  });
});

describe('snapshots through ONVIF', () => {
  it('asks GetSnapshotUri with a UsernameToken digest, then takes that picture with HTTP digest', async () => {
    const c = await sim({ style: 'dahua' });
    const cam = client(c, { protocol: 'onvif' });
    const picture = await cam.take();
    expect(picture.bytes.equals(c.served.at(-1)!.jpeg)).toBe(true);
    expect(c.served.at(-1)!.path).toBe('/cgi-bin/snapshot.cgi?channel=1');
    // GetCapabilities, GetProfiles, GetSnapshotUri once; the URL is kept for the next picture.
    await cam.take();
    expect(c.stats()).toMatchObject({ onvifRequests: 3, snapshots: 2 });
  });

  it('refuses a wrong password at the ONVIF service with CAMERA_AUTH', async () => {
    const c = await sim();
    expect(await codeOf(client(c, { protocol: 'onvif' }, 'wrong').take())).toBe('CAMERA_AUTH');
    expect(c.stats().onvifRequests).toBe(1);
  });

  it('reports an unknown profile token as CAMERA_ONVIF', async () => {
    const c = await sim();
    expect(await codeOf(client(c, { protocol: 'onvif', profileToken: 'nope' }).take())).toBe('CAMERA_ONVIF');
  });
});

describe('the camera service', () => {
  const temp = useTempLog();

  it('stores a picture as a blob with its camera and trigger, goes offline on a wrong password, online again after', async () => {
    const c = await sim();
    const log = temp.open();
    const service = new CameraService([client(c)], log, { clock: systemClock, logger: silentLogger });
    const ok = await service.snapshot('gate', { reason: 'command' });
    const blob = log.latestBlob('snapshot', 'gate')!;
    expect(blob).toMatchObject({
      seq: ok.seq,
      source: 'gate',
      trigger: { reason: 'command' },
      contentType: 'image/jpeg',
    });
    expect(Buffer.from(blob.bytes).equals(c.served.at(-1)!.jpeg)).toBe(true);
    expect(service.health()[0]).toMatchObject({ state: 'online', snapshots: 1 });

    c.setFault('wrong-password');
    await expect(service.snapshot('gate', { reason: 'periodic' })).rejects.toMatchObject({
      code: 'CAMERA_AUTH',
    });
    expect(service.health()[0]).toMatchObject({
      state: 'offline',
      failures: 1,
      lastError: { code: 'CAMERA_AUTH' },
    });
    expect(log.latestEvent('camera_offline')?.payload).toMatchObject({ camera: 'gate', code: 'CAMERA_AUTH' });

    c.setFault('none');
    await service.snapshot('gate', { reason: 'periodic' });
    expect(service.health()[0]!.state).toBe('online');
    expect(log.latestEvent('camera_online')?.payload).toEqual({ camera: 'gate' });
    await expect(service.snapshot('yard', { reason: 'command' })).rejects.toMatchObject({
      code: 'CAMERA_UNKNOWN',
    });
  });
});
