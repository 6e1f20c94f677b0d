import { Controller, Get, Inject } from '@nestjs/common';
import { UpstreamService } from './upstream.service';

@Controller('upstream')
export class UpstreamController {
  constructor(@Inject(UpstreamService) private readonly upstream: UpstreamService) {}

  @Get('whoami')
  whoami(): Promise<unknown> {
    return this.upstream.whoami();
  }
}
