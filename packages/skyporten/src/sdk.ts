// Loads a cloud SDK when a cloud entry first needs it. The SDKs are optional peer dependencies: an
// entry loads without its SDK, and its first use fails with SkyportenSdkMissingError naming the
// package to install, instead of Node's bare "Cannot find package".
import { SkyportenSdkMissingError } from './errors.js';

/**
 * The SDK each cloud entry drives, and the peer range the package declares for it.
 * @example
 * ```ts
 * import { CLOUD_SDKS } from '@portvakt/skyporten';
 * CLOUD_SDKS.aws.sdk; // '@aws-sdk/client-sts'
 * ```
 */
export const CLOUD_SDKS = Object.freeze({
  aws: { entry: '@portvakt/skyporten/aws', sdk: '@aws-sdk/client-sts', range: '^3.600.0' },
  google: { entry: '@portvakt/skyporten/google', sdk: 'google-auth-library', range: '>=9.15.0' },
  azure: { entry: '@portvakt/skyporten/azure', sdk: '@azure/identity', range: '^4.0.0' },
});

/** Whether `error` says that `sdk` itself (not one of its own dependencies) could not be found. */
function isMissing(error: unknown, sdk: string): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return typeof message === 'string' && (message.includes(`'${sdk}'`) || message.includes(`"${sdk}"`));
}

/**
 * The SDK module once `load` (an `import()` of it) resolves; a missing SDK becomes a
 * {@link SkyportenSdkMissingError}. The promise is kept, so the import happens once.
 */
export function sdkLoader<T>(cloud: keyof typeof CLOUD_SDKS, load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load().catch((error: unknown) => {
      const { entry, sdk, range } = CLOUD_SDKS[cloud];
      loaded = undefined;
      if (isMissing(error, sdk)) throw new SkyportenSdkMissingError(entry, sdk, range);
      throw error;
    });
    return loaded;
  };
}
