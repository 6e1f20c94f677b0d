export { maskinportenFastify } from './plugin.js';
export type { MaskinportenFastifyErrorHook, MaskinportenFastifyOptions, MaskinportenRouteConfig } from './plugin.js';
