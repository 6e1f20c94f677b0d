import { HttpService } from '@nestjs/axios';
import { Inject, Injectable } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';

/** Calls the upstream API through the HttpService that MaskinportenHttpModule provides. */
@Injectable()
export class UpstreamService {
  constructor(@Inject(HttpService) private readonly http: HttpService) {}

  async whoami(): Promise<unknown> {
    const res = await firstValueFrom(this.http.get('/whoami'));
    return res.data;
  }
}
