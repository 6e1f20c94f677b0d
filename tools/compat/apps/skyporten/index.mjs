// ESM: import every @portvakt/skyporten entry, then run the same scenario.
import { createRequire } from 'node:module';
import * as core from '@portvakt/core';
import * as testing from '@portvakt/testing';
import * as skyporten from '@portvakt/skyporten';
import * as aws from '@portvakt/skyporten/aws';
import * as google from '@portvakt/skyporten/google';
import * as azure from '@portvakt/skyporten/azure';

const { run } = createRequire(import.meta.url)('./scenario.cjs');
const all = process.env.COMPAT_SKYPORTEN_SDKS === 'all';
try {
  await run('ESM', { core, testing, skyporten, aws, google, azure }, all ? { sts: await import('@aws-sdk/client-sts') } : 'none');
} catch (err) {
  console.error(err);
  process.exitCode = 1;
}
