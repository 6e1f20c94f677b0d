import { Inject, Injectable, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import { ConfigurationError, daysUntilExpiry, isPortvaktError } from '@portvakt/core';
import type { MaskinportenClient } from '@portvakt/core';
import { getMaskinportenClientToken } from './maskinporten.constants.js';

/** Options of {@link MaskinportenHealthIndicator.isHealthy}. */
export interface MaskinportenHealthOptions {
  /** The MaskinportenModule client name; default the unnamed one. */
  client?: string | undefined;
  /** Scope to get a token for; default the client's default scope. */
  scope?: string | readonly string[] | undefined;
  /** Down when the enterprise certificate expires within this many days; default 14. */
  certificateWarningDays?: number | undefined;
}

/**
 * A `@nestjs/terminus` health indicator: up when a token can be had (from the cache is fine) and
 * the enterprise certificate, if any, is not about to expire. Reasons carry codes, never secrets.
 * Provide it in a module that imports `TerminusModule`; without it, boot fails with a
 * `ConfigurationError` that says so.
 *
 * @example
 * ```ts
 * @Controller('health')
 * export class HealthController {
 *   constructor(@Inject(HealthCheckService) private readonly health: HealthCheckService,
 *               @Inject(MaskinportenHealthIndicator) private readonly maskinporten: MaskinportenHealthIndicator) {}
 *   @Get() @HealthCheck()
 *   check() { return this.health.check([() => this.maskinporten.isHealthy('maskinporten')]); }
 * }
 * ```
 */
@Injectable()
export class MaskinportenHealthIndicator {
  private readonly indicators: HealthIndicatorService;
  private readonly moduleRef: ModuleRef;

  // Optional, so a missing TerminusModule reaches our message instead of Nest's "can't resolve
  // dependencies of the MaskinportenHealthIndicator (?, ModuleRef)".
  constructor(@Optional() @Inject(HealthIndicatorService) indicators: HealthIndicatorService | undefined, @Inject(ModuleRef) moduleRef: ModuleRef) {
    if (indicators === undefined) {
      throw new ConfigurationError(
        'imports',
        "MaskinportenHealthIndicator needs TerminusModule from @nestjs/terminus: add it to the imports of the module that provides the indicator, as in @Module({ imports: [TerminusModule], providers: [MaskinportenHealthIndicator] }).",
      );
    }
    this.indicators = indicators;
    this.moduleRef = moduleRef;
  }

  async isHealthy(key = 'maskinporten', options: MaskinportenHealthOptions = {}): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    let client: MaskinportenClient;
    try {
      client = this.moduleRef.get<MaskinportenClient>(getMaskinportenClientToken(options.client), { strict: false });
    } catch {
      return indicator.down({ reason: 'client_not_found' });
    }
    try {
      await client.getToken(options.scope === undefined ? undefined : { scope: options.scope });
    } catch (error) {
      if (!isPortvaktError(error)) return indicator.down({ reason: 'error' });
      return indicator.down({ reason: error.code, ...(error.code === 'ERR_PORTVAKT_TOKEN_REJECTED' && error.mpCode !== undefined ? { mpCode: error.mpCode } : {}) });
    }
    const certificate = client.certificate;
    if (certificate) {
      const daysLeft = daysUntilExpiry(certificate, Date.now());
      if (daysLeft < (options.certificateWarningDays ?? 14)) return indicator.down({ reason: 'certificate_expiring', daysLeft });
      return indicator.up({ certificateDaysLeft: daysLeft });
    }
    return indicator.up();
  }
}
