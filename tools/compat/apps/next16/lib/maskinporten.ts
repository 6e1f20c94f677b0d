// The app's one Maskinporten client, declared at module level. `next build` imports this module
// with no MASKINPORTEN_* variable set: the client reads them at its first call, at run time, and
// route handlers, server actions and server components (bundled apart by Next) share it.
import { defineMaskinportenClient, fromEnv } from '@portvakt/core';

export const maskinporten = defineMaskinportenClient(fromEnv);

/** Calls the API as `from`, with a token, and says how it went. */
export async function callApi(from: string): Promise<{ status: number; body: string }> {
  const token = await maskinporten.getToken();
  const response = await fetch(`${process.env.API_URL}/${from}`, { headers: { authorization: token.authorization }, cache: 'no-store' });
  return { status: response.status, body: await response.text() };
}
