// The strict-TypeScript example of docs/express.md, word for word, so `pnpm run typecheck` compiles
// it (strict: true, @types/express 5). It is not a test file: nothing here runs.
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { ConfigurationError, createMaskinportenClient, fromEnv } from '@portvakt/core';
import { maskinporten, maskinportenProxy } from '@portvakt/express';
import type { MaskinportenErrorHook } from '@portvakt/express';

const client = createMaskinportenClient(fromEnv());
const onError: MaskinportenErrorHook = (error, req) => {
  // error is core's typed error: code, and for Maskinporten refusals mpCode and hint.
  console.error({ code: (error as { code?: string }).code, message: error.message, path: req.originalUrl });
};

const app = express();
// The proxy first: it streams the caller's body, so no body parser may read it before.
app.use('/skatt', maskinportenProxy({ target: 'https://api.skatteetaten.no', client, scope: 'skatteetaten:testscope', onError }));
app.use(express.json());

app.use('/customers/:orgno', maskinporten({
  client,
  scope: 'skatteetaten:innrapportering',
  origins: ['https://api.skatteetaten.no'],
  onError,
  claims: (req) => {
    const { orgno } = req.params; // string | string[]
    if (typeof orgno !== 'string') throw new ConfigurationError('orgno', 'give one organisation number in the path.'); // answered as 400
    return { systemUser: { orgno } };
  },
}));
app.get('/customers/:orgno/status', async (req: Request, res: Response, next: NextFunction) => {
  try {
    const upstream = await req.maskinporten!.fetch('https://api.skatteetaten.no/status');
    res.status(upstream.status).json(await upstream.json());
  } catch (err) {
    next(err); // status 400/502/503/504, expose: false, a stable code
  }
});
app.listen(3000);
