/** Node's `util.inspect` hook, for objects that must print without their secrets. */
export const inspectSymbol: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never;
