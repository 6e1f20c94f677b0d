import { callApi } from '@/lib/maskinporten';

export async function GET(): Promise<Response> {
  return Response.json(await callApi('route-handler'));
}
