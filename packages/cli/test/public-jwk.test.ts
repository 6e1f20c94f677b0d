import { expect, it } from 'vitest';
import { jwkThumbprint, publicJwkOf } from '../src/index.js';

// §8.9: Digdir's JWK registration example (docs/maskinporten-rules.md §8), and its RFC 7638 thumbprint.
const KEY_REGISTRATION_EXAMPLE = {
  kty: 'RSA', e: 'AQAB', use: 'sig', kid: 'min_egen_nokkel', alg: 'RS256',
  n: 'lGc-dGnl9l9pCSb6eW5Mf23Aiss09q7Mxre9q9dazSiN9IjQJmkWDySpoYW3g_rSX2a74cg_q3iTSM0Co9iJ0LQp8gjoIi9I8syi6anBKK6fISr1adZbsGGrM1-zMRRNVsJ811snTdkbgx8ZxVRJM4F6D2KwL3TEnv0CRRVtphO0sRmimKBVVBdawPYQC64SQDvARy6xIlPhD-Da2n2Cl6vRQbVns7dYD8-C2TeYGgB_tAsrVSorx9GF5cZ-hlNHfIgg2qQYZzaljyfOWPPG5rybp9bAWg9vFllUFd_Y6vvZ0tqVfAyj67nFz_w4Rxy-MdRgERKHJcq81GkmVzq5fQ',
};

it('computes the RFC 7638 thumbprint of Digdir\'s example key', () => {
  expect(jwkThumbprint(KEY_REGISTRATION_EXAMPLE)).toBe('4i9H8E3qEBWBMt_4EnxL31JvtY5ehvruMH2MtSp-row');
});

it('writes a public JWK with exactly the members of Digdir\'s example', () => {
  const jwk = publicJwkOf(KEY_REGISTRATION_EXAMPLE, 'min_egen_nokkel');
  expect(jwk).toEqual(KEY_REGISTRATION_EXAMPLE);
  expect(Object.keys(jwk).sort()).toEqual(Object.keys(KEY_REGISTRATION_EXAMPLE).sort());
});
