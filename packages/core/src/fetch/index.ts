export { createAuthorizedFetch } from './authorized-fetch.js';
export type { AuthorizedFetchOptions } from './authorized-fetch.js';
