import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { MaskinportenHealthIndicator } from '@portvakt/nestjs/health';

@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(MaskinportenHealthIndicator) private readonly maskinporten: MaskinportenHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.maskinporten.isHealthy('maskinporten')]);
  }
}
