// Portvakt on Bun: the checks in runtime-checks.ts (copied from tools/compat/programs), run by
// Bun's own test runner with Bun's fetch and HTTP server.
import { afterAll, beforeAll, test } from 'bun:test';
import { CHECKS, startWorld } from './runtime-checks.ts';
import type { World } from './runtime-checks.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world.close();
});

for (const [name, check] of Object.entries(CHECKS)) test(name, () => check(world));
