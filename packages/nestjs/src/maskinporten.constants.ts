/** Injection token of a named Maskinporten client (`default` when unnamed). */
export function getMaskinportenClientToken(name = 'default'): string {
  return `portvakt:maskinporten:client:${name}`;
}
