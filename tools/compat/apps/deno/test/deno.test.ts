// Portvakt on Deno: the checks in runtime-checks.ts (copied from tools/compat/programs), run by
// Deno's own test runner with Deno's fetch and its Node.js compatibility. The packages come from
// node_modules (deno.json: "nodeModulesDir": "manual"), as in a Deno project with a package.json;
// `deno test` type-checks this file and what it imports first, as `deno check` would.
import assert from 'node:assert/strict';
import * as bare from '@portvakt/core';
import * as viaNpm from 'npm:@portvakt/core';
import { CHECKS, startWorld } from './runtime-checks.ts';

Deno.test('npm: specifiers and bare specifiers load the same installed package', () => {
  assert.equal(viaNpm.createMaskinportenClient, bare.createMaskinportenClient);
});

Deno.test('Portvakt on Deno', async (t) => {
  const world = await startWorld();
  try {
    for (const [name, check] of Object.entries(CHECKS)) await t.step(name, () => check(world));
  } finally {
    await world.close();
  }
});
