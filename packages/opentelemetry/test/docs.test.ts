// The guide lists what the code records: every metric, span and attribute name, and one table of
// channels that is the same as the TSDoc of DIAGNOSTICS_CHANNELS.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { DIAGNOSTICS_CHANNELS } from '@portvakt/core';
import { PORTVAKT_ATTRIBUTES, PORTVAKT_METRICS, PORTVAKT_SPANS } from '@portvakt/opentelemetry';

const guide = readFileSync(new URL('../../../docs/observability.md', import.meta.url), 'utf8');
const tsdoc = readFileSync(new URL('../../core/src/diagnostics.ts', import.meta.url), 'utf8');

it('names every metric, span and attribute in docs/observability.md', () => {
  for (const name of [...Object.values(PORTVAKT_METRICS), ...Object.values(PORTVAKT_SPANS), ...Object.values(PORTVAKT_ATTRIBUTES)]) {
    expect(guide, name).toContain(`\`${name}\``);
  }
});

it("lists every channel in one table, the same as DIAGNOSTICS_CHANNELS' TSDoc", () => {
  const docRows = guide.split('\n').filter((line) => line.startsWith('| `') && line.includes('`portvakt:'));
  const tsdocRows = tsdoc.split('\n').filter((line) => line.startsWith(' * | `')).map((line) => line.slice(3));
  expect(docRows).toEqual(tsdocRows);
  expect(docRows.map((row) => /`(portvakt:[^`]+)`/.exec(row)?.[1])).toEqual(Object.values(DIAGNOSTICS_CHANNELS));
});
