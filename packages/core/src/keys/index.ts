export { GRANT_ALGORITHMS, loadSigner } from './signer.js';
export type { LoadedSigner } from './signer.js';
export { parsePkcs12 } from './pkcs12.js';
export type { Pkcs12Contents } from './pkcs12.js';
