// The guide's strict-TypeScript example is the file the typecheck compiles, and the README works on
// the npm registry page (no links into the repository).
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

it('the strict-TypeScript example in docs/express.md is the one the typecheck compiles', () => {
  const guide = read('../../../docs/express.md');
  const start = guide.indexOf("```ts\nimport express from 'express';\nimport type { NextFunction");
  expect(start).toBeGreaterThan(-1);
  const example = guide.slice(start + '```ts\n'.length, guide.indexOf('```', start + 6));
  const compiled = read('./strict-typescript-example.ts');
  expect(compiled.slice(compiled.indexOf('import express'))).toBe(example);
  expect(guide).toMatch(/```mermaid\nflowchart/);
});

it('the README has the install command and tested versions, and no relative links', () => {
  const readme = read('../README.md');
  expect(readme).toContain('npm i @portvakt/express @portvakt/core express http-proxy-middleware');
  expect(readme).toContain('Express 4.21 and 5.x, http-proxy-middleware 3.x and 4.x');
  expect(readme).not.toMatch(/\]\((?!https?:)/);
});
