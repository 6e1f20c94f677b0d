import { Inject } from '@nestjs/common';
import { getMaskinportenClientToken } from './maskinporten.constants.js';

/**
 * Injects the Maskinporten client registered under `name` (default: the unnamed one).
 *
 * @example
 * ```ts
 * @Injectable()
 * export class SkattService {
 *   constructor(@InjectMaskinportenClient('skatt') private readonly maskinporten: MaskinportenClient) {}
 * }
 * ```
 */
export function InjectMaskinportenClient(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getMaskinportenClientToken(name));
}
