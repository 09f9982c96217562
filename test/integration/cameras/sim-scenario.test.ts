/** Cameras in a simulator scenario: listening beside the buses, with their fault timeline. */
import { afterEach, expect, it } from 'vitest';
import { Camera } from '../../../gateway/src/config/schema-cameras.js';
import { CameraClient } from '../../../gateway/src/cameras/index.js';
import { parseScenario, startSimulator, type Simulator } from '../../../hardware-sim/src/index.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
});

it('starts the scenario cameras and runs their fault timeline, healthy again after `for`', async () => {
  sim = await startSimulator(
    parseScenario({
      buses: [{ name: 'line', kind: 'tcp', port: 0 }],
      cameras: [
        {
          id: 'gate',
          style: 'dahua',
          password: 'pw',
          faults: [{ at: '+0s', for: '1500ms', kind: 'server-error' }],
        },
      ],
    }),
  );
  const [camera] = sim.cameras;
  expect(camera!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const config = Camera.parse({ protocol: 'dahua', url: camera!.url, password: { secret: 'x' } });
  const client = new CameraClient('gate', config, { username: 'admin', password: 'pw' }, Date.now);
  await new Promise((r) => setTimeout(r, 100));
  await expect(client.take()).rejects.toMatchObject({ code: 'CAMERA_HTTP' });
  await new Promise((r) => setTimeout(r, 1600));
  expect((await client.take()).bytes.equals(camera!.served.at(-1)!.jpeg)).toBe(true);
});
