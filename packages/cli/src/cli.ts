#!/usr/bin/env node
// The `portvakt` bin: runs the command line on this process's streams and environment.
import { run } from './run.js';

process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
