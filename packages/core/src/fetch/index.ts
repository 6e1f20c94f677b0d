export { createAuthorizedFetch } from './authorized-fetch.js';
export type { AccessTokenSource, AuthorizedFetchOptions } from './authorized-fetch.js';
