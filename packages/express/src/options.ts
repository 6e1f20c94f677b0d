// Option checks shared by the middleware and the proxy. Every options object refuses keys it does
// not know: a typo (`scopes` for `scope`, `consumer_org` for `consumerOrg`) would otherwise be
// ignored silently, and the app would ask for a token it did not mean to.
import { ConfigurationError } from '@portvakt/core';
import { refuseUnknownOptions } from '@portvakt/core/internal';

/** Checks the options object itself and that it has only `known` keys. */
export function checkOptionsObject(options: unknown, known: readonly string[], shape: string): asserts options is object {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new ConfigurationError('options', `must be an object: ${shape}.`);
  refuseUnknownOptions(options, known, '');
}

/** Checks an optional function option. */
export function checkFunction(value: unknown, field: string, shape: string): void {
  if (value !== undefined && typeof value !== 'function') throw new ConfigurationError(field, `must be a function ${shape}, or left out.`);
}
