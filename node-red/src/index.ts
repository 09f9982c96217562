/** Every node of node-red-contrib-lantian, registered from one module (one bundle, one engine). */
import type { NodeAPI } from 'node-red';
import registerCommand from './nodes/lantian-command.js';
import registerDevice from './nodes/lantian-device.js';
import registerHj212 from './nodes/hj212.js';
import registerGateway from './nodes/lantian-gateway.js';
import registerLine from './nodes/lantian-line.js';

export default function register(RED: NodeAPI): void {
  registerLine(RED);
  registerDevice(RED);
  registerGateway(RED);
  registerCommand(RED);
  registerHj212(RED);
}
