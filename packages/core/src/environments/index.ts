export { ENVIRONMENTS } from './presets.js';
export type { EnvironmentEndpoints } from './presets.js';
export { createEnvironmentSource } from './source.js';
export type { EnvironmentDependencies } from './source.js';
export type { EnvironmentOption, EnvironmentSource, ResolvedEnvironment } from './types.js';
