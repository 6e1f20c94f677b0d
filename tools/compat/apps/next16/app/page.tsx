import { connection } from 'next/server';
import { callApi } from '@/lib/maskinporten';
import { callFromServerAction } from './actions';

export default async function Page() {
  // Rendered per request: a page that calls an API with a token is never prerendered at build time.
  await connection();
  const result = await callApi('server-component');
  return (
    <main>
      <p id="result">server component: API answered {result.status}</p>
      <form action={callFromServerAction}>
        <button type="submit">Call from a server action</button>
      </form>
    </main>
  );
}
