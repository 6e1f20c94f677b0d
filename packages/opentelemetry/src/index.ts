// @portvakt/opentelemetry: public API.
export { instrumentPortvakt } from './instrument.js';
export type { PortvaktInstrumentation, PortvaktInstrumentationOptions } from './instrument.js';
export { PORTVAKT_ATTRIBUTES, PORTVAKT_METRICS, PORTVAKT_SPANS } from './names.js';
