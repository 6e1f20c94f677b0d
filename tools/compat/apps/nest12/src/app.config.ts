import type { MaskinportenModuleOptions } from '@portvakt/nestjs';

/** What the app needs to know: its Maskinporten client and the API it calls. */
export interface AppConfig {
  clientId: string;
  environment: MaskinportenModuleOptions['environment'];
  key: MaskinportenModuleOptions['key'];
  scope: string;
  apiUrl: string;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  return {
    clientId: need('MASKINPORTEN_CLIENT_ID'),
    environment: env.MASKINPORTEN_ENV === 'prod' ? 'prod' : 'test',
    key: { jwk: need('MASKINPORTEN_CLIENT_JWK') },
    scope: need('MASKINPORTEN_SCOPE'),
    apiUrl: need('API_URL'),
  };
}
