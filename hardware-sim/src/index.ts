/**
 * lantian-sim: the hardware simulator as a library. Other parts of Lantian (tests, demos,
 * benchmarks) start scenarios with `startSimulator` and steer them through `control`.
 */
export { startSimulator, type Simulator, type SimulatorOptions } from './simulator.js';
export { loadScenario, parseScenario, withFreePorts } from './scenario/load.js';
export { siteConfigFor, type SiteConfigOptions } from './scenario/site-config.js';
export type { Scenario, BusSpec, DeviceSpec } from './scenario/schema.js';
export { SimControl, type SimBusInfo, type DeviceInfo } from './control/control.js';
export type { BusStatsSnapshot } from './bus/stats.js';
export type { ServedCounts, ServedValue } from './device/served.js';
export { FAULT_KINDS, FaultSpec, type FaultKind, type ActiveFault } from './faults.js';
export {
  DEFAULT_LINE,
  bitsPerCharacter,
  bytesTimeMs,
  characterTimeMs,
  readBitsSizes,
  readRegistersSizes,
  replyDelayMs,
  silenceMs,
  theoreticalMaxRate,
  transactionWireTimeMs,
  type LineSettings,
  type MixEntry,
} from './wire/model.js';
export { crc16modbus, withCrc, crcValid } from './modbus/crc.js';
export { encodeWords } from './device/encode.js';
export { pms5003Frame, PMS5003_FIELDS } from './uart/pms5003.js';
export { sds011Frame } from './uart/sds011.js';
export {
  SimCamera,
  startCamera,
  snapshotPath,
  CAMERA_FAULTS,
  CAMERA_STYLES,
  type CameraFault,
  type CameraStyle,
  type SimCameraOptions,
} from './camera/server.js';
