export { GRANT_ALGORITHMS, loadSigner } from './signer.js';
export type { LoadedSigner } from './signer.js';
export { parsePkcs12 } from './pkcs12.js';
export type { Pkcs12Contents } from './pkcs12.js';
export { readKeyFile, tryReadKeyFile, checkKeyFileSource, kidContradicts } from './key-file.js';
export type { KeyFileContents, KeyFileFailure, KeyFileProblem } from './key-file.js';
export { followKeyFile, followSettingsOf, kidUnchanged } from './follow.js';
export type { FollowSettings, FollowTarget, KeyFollower, KeyRefusal } from './follow.js';
