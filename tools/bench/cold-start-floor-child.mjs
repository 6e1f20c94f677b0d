// The floor of the cold-start benchmark (cold-start.bench.mjs): the process a user would write by
// hand with no library but Axios. It signs the grant with node:crypto, posts it to the token
// endpoint with fetch, and makes one call with the token as a static Authorization header. The
// same settings as the Portvakt process: the variables NAIS injects, and API_URL.
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { URLSearchParams } from 'node:url';
import axios from 'axios';

const env = process.env;
const jwk = JSON.parse(env.MASKINPORTEN_CLIENT_JWK);
const key = createPrivateKey({ key: jwk, format: 'jwk' });
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const iat = Math.floor(Date.now() / 1000);
// The claims Maskinporten wants (docs/maskinporten-rules.md §2), in the order Portvakt writes them.
const input = `${b64({ alg: 'RS256', kid: jwk.kid })}.${b64({ aud: env.MASKINPORTEN_ISSUER, iss: env.MASKINPORTEN_CLIENT_ID, iat, exp: iat + 60, jti: randomUUID(), scope: env.MASKINPORTEN_SCOPES })}`;
const assertion = `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
const response = await fetch(env.MASKINPORTEN_TOKEN_ENDPOINT, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
});
if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
const { access_token: token } = await response.json();
const api = axios.create({ baseURL: env.API_URL, headers: { Authorization: `Bearer ${token}` } });
const { status } = await api.get('/cold-start');
// Peak RSS is the kernel's high-water mark for this process (getrusage, what wait4 reports too).
const { maxRSS, userCPUTime, systemCPUTime } = process.resourceUsage();
process.stdout.write(JSON.stringify({ status, maxRssKiB: maxRSS, cpuMicros: userCPUTime + systemCPUTime }));
process.exit(0);
