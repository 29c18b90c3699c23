// `y` in the TUI puts the selected finding's path on the clipboard (OSC 52).
// A traced program chooses its file names: one holding ESC [201~ (the end of
// a bracketed paste), a newline and a command ran that command in the root
// shell the path was pasted into (review 21's safety review, F2). The path is
// now copied as one shell word whenever it holds anything a shell acts on,
// with every control character spelled out. The truth is a real bash: the
// word it reads back is the path, and nothing runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { expect, it } from 'vitest';
import { App } from '../src/tui/App.js';
import { clipboardPath } from '../src/tui/controller.js';
import { escapeControl } from '../src/report/sanitize.js';
import { frameWhen } from './support/frame.js';
import { storeFromTrace } from './tui-fixture.js';

/** What bash makes of `word` as the argument of printf, run in an empty directory; and what the directory holds after. */
function bashReads(word: string): { printed: string; made: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'om-clipboard-'));
  const result = spawnSync('bash', ['--norc', '--noprofile', '-c', `printf '%s' ${word}`], { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`bash failed on ${JSON.stringify(word)}: ${result.stderr}`);
  return { printed: result.stdout, made: readdirSync(dir) };
}

const HOSTILE = [
  'seg.index\u001b[201~\ntouch PWNED\n',
  "/data/it's here",
  '/data/back\\slash',
  '/data/$(touch PWNED)`touch PWNED`',
  '/data/a b;touch PWNED&',
  '/data/\u202egpj.exe',
  '/data/next\u0085line',
  '/data/tag\u{e0041}',
  '/data/\t\r\u007f',
];

it.each(HOSTILE.map((path) => [JSON.stringify(path), path]))('copies %s as one word that a real bash reads back exactly, running nothing', (_, path) => {
  const word = clipboardPath(path!);
  expect(escapeControl(word)).toBe(word);
  expect(bashReads(word)).toEqual({ printed: path, made: [] });
});

it('copies a path of plain characters as it is', () => {
  const path = '/var/lib/kafka/data/events-2.v2-7/00000000000000000000.index.deleted';
  expect(clipboardPath(path)).toBe(path);
});

it('y on a finding whose file name the traced program made hostile: the clipboard gets the quoted word', async () => {
  const name = '/tmp/d/seg\\33[201~\\ntouch PWNED\\n';
  const trace = join(mkdtempSync(join(tmpdir(), 'om-clipboard-trace-')), 'trace.txt');
  writeFileSync(
    trace,
    [
      `100 1700000000.000000 openat(AT_FDCWD, "${name}", O_RDWR|O_CREAT, 0644) = 3`,
      '100 1700000000.000100 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f0000001000',
      `100 1700000000.000200 unlink("${name}") = 0`,
      '',
    ].join('\n'),
  );
  const { store } = storeFromTrace(trace);
  const copied: string[] = [];
  const view = render(<App store={store} width={120} height={30} onCopy={(text) => copied.push(text)} />);
  try {
    const frame = () => view.lastFrame() ?? '';
    await frameWhen(frame, (text) => text.includes('findings 1'), 'the finding');
    view.stdin.write('y');
    await frameWhen(frame, (text) => text.includes('quoted for a shell'), 'the status line');
    const path = store.getSnapshot().rows[0]!.path;
    expect(path).toBe('/tmp/d/seg\u001b[201~\ntouch PWNED\n');
    expect(copied).toEqual([clipboardPath(path)]);
    expect(bashReads(copied[0]!)).toEqual({ printed: path, made: [] });
    expect(existsSync(join(tmpdir(), 'PWNED'))).toBe(false);
  } finally {
    view.unmount();
  }
});
