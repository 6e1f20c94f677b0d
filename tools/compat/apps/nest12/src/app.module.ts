import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MaskinportenHttpModule, MaskinportenModule } from '@portvakt/nestjs';
import { MaskinportenHealthIndicator } from '@portvakt/nestjs/health';
import type { AppConfig } from './app.config.js';
import { AppController } from './app.controller.js';
import { AppService } from './app.service.js';
import { HealthController } from './health.controller.js';
import { UpstreamController } from './upstream.controller.js';
import { UpstreamService } from './upstream.service.js';

@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        MaskinportenModule.forRoot({
          isGlobal: true,
          clientId: config.clientId,
          environment: config.environment,
          key: config.key,
          scope: config.scope,
        }),
        MaskinportenHttpModule.register({ baseURL: config.apiUrl }),
        TerminusModule,
      ],
      controllers: [AppController, UpstreamController, HealthController],
      providers: [AppService, UpstreamService, MaskinportenHealthIndicator],
    };
  }
}
