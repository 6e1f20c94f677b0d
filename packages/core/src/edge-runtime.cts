// What a bundler for an edge runtime (the "edge-light" export condition: Next.js' `runtime = 'edge'`
// and Vercel's Edge Functions) gets instead of the package. Portvakt signs grants with node:crypto
// and keeps tokens in the memory of a long-lived process, which an edge runtime has neither of, so
// it stops here with what to do, instead of failing later on a missing Node.js module. CommonJS, so
// a bundler accepts any named import from it without checking the names.
throw new Error(
  '@portvakt/core needs the Node.js runtime, and this code was bundled for an edge runtime. In Next.js, remove ' +
    "`export const runtime = 'edge'` from the route or page that imports Portvakt (the Node.js runtime is the default), " +
    'and call Portvakt from route handlers, server actions and server components, not from edge middleware. See docs/nextjs.md.',
);
