export { SeqSet, type SeqRange } from './seq-set.js';
export {
  ContractReader,
  findSchemaFile,
  type GapAnnouncement,
  type Lane,
  type PlatformEvent,
  type PlatformHealth,
  type PlatformState,
  type PlatformReading,
  type BlobPart,
} from './contract.js';
export {
  startPlatform,
  summary,
  type EpochStats,
  type LaneStats,
  type PlatformOptions,
  type PlatformStats,
  type PlatformWitness,
  type ReadingInfo,
  type ReceivedBlob,
} from './witness.js';
