import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createPrinter } from '../src/io.js';

function stream(isTTY: boolean): Writable & { isTTY: boolean; text: () => string } {
  let text = '';
  const s = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  }) as Writable & { isTTY: boolean; text: () => string };
  s.isTTY = isTTY;
  s.text = () => text;
  return s;
}

const ESC = String.fromCharCode(27);

it('colours only on a terminal, and never with NO_COLOR', () => {
  const tty = stream(true);
  const coloured = createPrinter({ stdout: tty, stderr: stream(true), env: {}, cwd: '.' });
  coloured.out(coloured.colour.ok('ok'));
  expect(tty.text()).toContain(`${ESC}[32mok`);
  const noColour = stream(true);
  const printer = createPrinter({ stdout: noColour, stderr: stream(true), env: { NO_COLOR: '1' }, cwd: '.' });
  printer.out(printer.colour.ok('ok'));
  expect(noColour.text()).toBe('ok\n');
  const pipe = stream(false);
  const piped = createPrinter({ stdout: pipe, stderr: stream(false), env: {}, cwd: '.' });
  piped.out(piped.colour.bad('bad'));
  expect(pipe.text()).toBe('bad\n');
});

it('shows progress on a terminal only, rewriting one line, and clears it at the end', () => {
  const tty = stream(true);
  const printer = createPrinter({ stdout: stream(false), stderr: tty, env: {}, cwd: '.' });
  printer.progress('waiting 1 s');
  printer.progress('waiting 2 s');
  printer.endProgress();
  expect(tty.text()).toBe(`\r${ESC}[2Kwaiting 1 s\r${ESC}[2Kwaiting 2 s\r${ESC}[2K`);
  const pipe = stream(false);
  const quiet = createPrinter({ stdout: stream(false), stderr: pipe, env: {}, cwd: '.' });
  quiet.progress('waiting');
  quiet.endProgress();
  expect(pipe.text()).toBe('');
});
