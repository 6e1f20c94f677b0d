'use server';
import { callApi } from '@/lib/maskinporten';

export async function callFromServerAction(): Promise<void> {
  const result = await callApi('server-action');
  console.log(`server action: API answered ${result.status}`);
}
