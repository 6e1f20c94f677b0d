// The Portvakt side of the cold-start benchmark (cold-start.bench.mjs): core and the Axios
// adapter as a user starts them, the client from the environment (the variables NAIS injects),
// one authorised call. Everything else is as in cold-start-floor-child.mjs.
import axios from 'axios';
import { createMaskinportenClient, fromEnv } from '@portvakt/core';
import { withMaskinporten } from '@portvakt/axios';

const api = axios.create({ baseURL: process.env.API_URL });
withMaskinporten(api, { client: createMaskinportenClient(fromEnv()) });
const { status } = await api.get('/cold-start');
const { maxRSS, userCPUTime, systemCPUTime } = process.resourceUsage();
process.stdout.write(JSON.stringify({ status, maxRssKiB: maxRSS, cpuMicros: userCPUTime + systemCPUTime }));
process.exit(0);
