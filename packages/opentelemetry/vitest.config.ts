import { definePackageConfig } from '../../vitest.shared.ts';

const config = definePackageConfig();
// @opentelemetry/* packages publish, under the "module" condition, an ES build with extension-less
// imports that Node cannot load; resolve them as Node does (their CommonJS "default").
const asNode = (conditions: string[] | undefined) => conditions?.filter((c) => c !== 'module');
export default {
  ...config,
  resolve: { ...config.resolve, conditions: asNode(config.resolve?.conditions) },
  ssr: { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions: asNode(config.ssr?.resolve?.conditions) } },
};
