// CommonJS: require() every @portvakt/skyporten entry (each must be its CommonJS build), then run the scenario.
'use strict';
const { run } = require('./scenario.cjs');

const sdks = process.env.COMPAT_SKYPORTEN_SDKS === 'all' ? 'all' : 'none';
const mods = {
  core: require('@portvakt/core'),
  testing: require('@portvakt/testing'),
  skyporten: require('@portvakt/skyporten'),
  aws: require('@portvakt/skyporten/aws'),
  google: require('@portvakt/skyporten/google'),
  azure: require('@portvakt/skyporten/azure'),
};
for (const id of ['@portvakt/skyporten', '@portvakt/skyporten/aws', '@portvakt/skyporten/google', '@portvakt/skyporten/azure']) {
  if (!/[\\/]dist[\\/]cjs[\\/]/.test(require.resolve(id))) throw new Error(`${id} resolved to ${require.resolve(id)}, not its CommonJS build`);
}
run('CommonJS', mods, sdks === 'all' ? { sts: require('@aws-sdk/client-sts') } : 'none').catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
