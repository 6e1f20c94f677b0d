import { NestFactory } from '@nestjs/core';
import { configFromEnv } from './app.config.js';
import { AppModule } from './app.module.js';

async function bootstrap() {
  const app = await NestFactory.create(AppModule.register(configFromEnv()));
  await app.listen(process.env.PORT ?? 3000);
}
await bootstrap();
