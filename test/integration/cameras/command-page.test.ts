/**
 * The `snapshot` command through Mosquitto (signed by the platform, registered by the cameras
 * through the commands registry) and the last picture on the local web page.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect } from 'vitest';
import { Camera } from '../../../gateway/src/config/schema-cameras.js';
import { CameraClient, CameraService, registerSnapshotCommand } from '../../../gateway/src/cameras/index.js';
import { systemClock } from '../../../gateway/src/core/clock.js';
import { silentLogger } from '../../../gateway/src/core/logger.js';
import { openLog, type Log } from '../../../gateway/src/store/index.js';
import {
  CommandHandler,
  CommandRegistry,
  type CommandResult,
} from '../../../gateway/src/uplink/commands/index.js';
import { registerBuiltins } from '../../../gateway/src/uplink/commands/builtin.js';
import { signCommand } from '../../../gateway/src/uplink/commands/sign.js';
import { resolveOptions } from '../../../gateway/src/uplink/mqtt/options.js';
import { LiveView, WebServer } from '../../../gateway/src/api/index.js';
import { startCamera, type SimCamera } from '../../../hardware-sim/src/camera/index.js';
import { startMosquitto, type MosquittoBroker } from '../../helpers/broker.js';
import { tempDir, type TempDir } from '../../helpers/store-fixtures.js';
import { requireTool } from '../../helpers/tools.js';

const tools = requireTool('mosquitto');
const GW = 'gw-snap';

tools.describe('the snapshot command and the web page', () => {
  let broker: MosquittoBroker;
  let camera: SimCamera;
  let tmp: TempDir;
  let log: Log;
  let service: CameraService;
  let handler: CommandHandler;
  let platform: MqttClient;
  let key: KeyObject;
  const results: CommandResult[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    camera = await startCamera({ id: 'gate', style: 'hikvision', username: 'admin', password: 'pw' });
    tmp = tempDir('lantian-snap-');
    log = openLog({ path: tmp.file('log.db') });
    const config = Camera.parse({ protocol: 'hikvision', url: camera.url, password: { secret: 'x' } });
    service = new CameraService(
      [new CameraClient('gate', config, { username: 'admin', password: 'pw' }, Date.now)],
      log,
      {
        clock: systemClock,
        logger: silentLogger,
      },
    );
    const registry = new CommandRegistry();
    registerSnapshotCommand(registry, service);
    registerBuiltins(registry, log, systemClock);
    const keys = generateKeyPairSync('ed25519');
    key = keys.privateKey;
    handler = new CommandHandler(log, registry, resolveOptions({ url: broker.url, gatewayId: GW }), {
      platformKey: keys.publicKey,
      maxAgeMs: 60_000,
    });
    handler.start();
    await handler.subscribed;
    platform = await mqtt.connectAsync(broker.url, { clientId: 'platform-snap' });
    platform.on('message', (_t, p) => results.push(JSON.parse(p.toString()) as CommandResult));
    await platform.subscribeAsync(`lantian/v1/${GW}/cmd/+/result`, { qos: 1 });
  });
  afterAll(async () => {
    await platform?.endAsync();
    await handler?.stop();
    log?.close();
    await camera?.close();
    await broker?.close();
    tmp?.remove();
  });

  async function command(id: string, args: Record<string, unknown>): Promise<CommandResult> {
    await platform.publishAsync(
      `lantian/v1/${GW}/cmd/snapshot`,
      JSON.stringify(signCommand(id, args, key, Date.now())),
      {
        qos: 1,
      },
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = results.find((x) => x.id === id);
      if (r) return r;
      if (Date.now() > deadline) throw new Error(`no result for ${id}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  tools.it('takes a picture on a signed command and answers with the blob seq', async () => {
    const r = await command('snap-1', { camera: 'gate' });
    expect(r).toMatchObject({
      ok: true,
      name: 'snapshot',
      result: { camera: 'gate', seq: expect.any(Number) },
    });
    const blob = log.latestBlob('snapshot', 'gate')!;
    expect(blob.seq).toBe((r.result as { seq: number }).seq);
    expect(blob.trigger).toEqual({ reason: 'command' });
    expect(Buffer.from(blob.bytes).equals(camera.served.at(-1)!.jpeg)).toBe(true);
    // With one camera on the site, the camera may be left out.
    expect(await command('snap-2', {})).toMatchObject({ ok: true });
  });

  tools.it(
    'answers failed with the camera error code for an unknown camera or a wrong password',
    async () => {
      expect(await command('snap-3', { camera: 'yard' })).toMatchObject({
        ok: false,
        refusal: { reason: 'failed', message: expect.stringMatching(/^CAMERA_UNKNOWN:/) },
      });
      camera.setFault('wrong-password');
      expect(await command('snap-4', { camera: 'gate' })).toMatchObject({
        ok: false,
        refusal: { reason: 'failed', message: expect.stringMatching(/^CAMERA_AUTH:/) },
      });
      camera.setFault('none');
      expect(service.health()[0]).toMatchObject({ state: 'offline', lastError: { code: 'CAMERA_AUTH' } });
    },
  );

  tools.it(
    'serves the last picture of a camera on the web page, and 404 for a camera without one',
    async () => {
      const view = new LiveView(log, {
        gateway: { id: GW, site: 'Site' },
        devices: [],
        status: () => ({ cameras: service.health() }),
      });
      const web = new WebServer(view, log, {
        host: '127.0.0.1',
        port: 0,
        snapshot: (c) => log.latestBlob('snapshot', c),
      });
      const url = await web.listen();
      try {
        const res = await fetch(`${url}/api/cameras/gate/latest.jpg`);
        expect(res.headers.get('content-type')).toBe('image/jpeg');
        const bytes = Buffer.from(await res.arrayBuffer());
        expect(bytes.equals(Buffer.from(log.latestBlob('snapshot', 'gate')!.bytes))).toBe(true);
        expect(res.headers.get('x-lantian-seq')).toBe(String(log.latestBlob('snapshot', 'gate')!.seq));
        expect((await fetch(`${url}/api/cameras/yard/latest.jpg`)).status).toBe(404);
        const page = await fetch(`${url}/app.js`).then((r) => r.text());
        expect(page).toContain('/latest.jpg?seq=');
      } finally {
        await web.close();
      }
    },
  );
});
