/**
 * Injection token of a named Maskinporten client (`default` when unnamed).
 * @example
 * ```ts
 * const client = app.get<MaskinportenClient>(getMaskinportenClientToken('skatt'));
 * ```
 */
export function getMaskinportenClientToken(name = 'default'): string {
  return `portvakt:maskinporten:client:${name}`;
}
