// A small gateway: /api/* is proxied to the upstream API with our Maskinporten token, and
// /report calls the API itself with the token the middleware gives each request.
import express from 'express';
import { maskinporten, maskinportenProxy } from '@portvakt/express';

export function createApp({ client, apiUrl, scope }) {
  const app = express();
  app.use('/api', maskinportenProxy({ target: apiUrl, client, scope }));
  app.get('/report', maskinporten({ client, scope, origins: [apiUrl] }), async (req, res, next) => {
    try {
      const upstream = await req.maskinporten.fetch(`${apiUrl}/whoami`);
      res.status(upstream.status).json({ via: 'middleware', upstream: await upstream.json() });
    } catch (err) {
      next(err);
    }
  });
  return app;
}
