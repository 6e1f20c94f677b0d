export { GRANT_ALGORITHMS, keyInputForm, loadSigner, publicKeyThumbprint } from './signer.js';
export type { LoadedSigner } from './signer.js';
export { parsePkcs12 } from './pkcs12.js';
export type { Pkcs12Contents } from './pkcs12.js';
export { readKeyFile, tryReadKeyFile, checkKeyFileSource } from './key-file.js';
export type { KeyFileContents, KeyFileFailure, KeyFileProblem } from './key-file.js';
export { followKeyFile, followSettingsOf } from './follow.js';
export type { FollowSettings, FollowTarget, KeyFollower } from './follow.js';
