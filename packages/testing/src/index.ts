export { createManualClock } from './fixtures/clock.js';
export type { ManualClock } from './fixtures/clock.js';
export { generateClientKey } from './fixtures/keys.js';
export type { ClientKeyFixture } from './fixtures/keys.js';
export { createTestPki, TEST_CA_NAMES } from './fixtures/pki.js';
export type { EnterpriseCertificateFixture, EnterpriseCertificateOptions, TestPki } from './fixtures/pki.js';
export { startMaskinportenSimulator } from './simulator/server.js';
export type { MaskinportenSimulator } from './simulator/server.js';
export type {
  SimulatorClient,
  SimulatorClock,
  SimulatorFault,
  SimulatorOptions,
  SimulatorPath,
  SimulatorRequestRecord,
  SimulatorTexas,
  SimulatorTexasOptions,
} from './simulator/types.js';
export { createTokenFactory } from './token-factory.js';
export type { MintClaims, TokenFactory } from './token-factory.js';
export type { ForgeOptions, MintOptions } from './token-factory.js';
export { startRecordingApi, startRecordingDualApi } from './recording-api.js';
export type { RecordingApi, SeenRequest } from './recording-api.js';
