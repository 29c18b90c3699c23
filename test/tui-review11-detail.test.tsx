// The TUI's detail of a finding says what the text report says of it
// (review 11). A bundle's findings are checked against its maps-end.txt once
// the trace is read: the text report then says the mapping is "confirmed by
// /proc/PID/maps at the end" and shows that maps line; the detail, fed as
// the trace was read, showed neither.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../src/tui/App.js';
import { engineFeed } from '../src/tui/feed.js';
import { readIntoStore } from '../src/tui/run.js';
import { TuiStore } from '../src/tui/store.js';
import { runCli } from './support/tools.js';
import { storeFromTrace } from './tui-fixture.js';
import { frameWhen } from './support/frame.js';

const ENTER = '\r';

/** A capture of pid 4242 that maps a.index, then unlinks it; maps-end.txt still shows it mapped, deleted. */
function bundle(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orphanmap-r11-detail-'));
  const meta = { schema: 'orphanmap/bundle@1', backend: 'strace', pid: 4242, mode: 'attached', attached: true, comm: 'holder', traceFiles: ['trace.txt'], exitReason: 'duration', complete: true };
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
  writeFileSync(
    join(dir, 'trace.txt'),
    [
      '4242<holder> 1796298144.851650 openat(AT_FDCWD</w>, "/w/a.index", O_RDWR|O_CREAT|O_TRUNC, 0644) = 3</w/a.index> <0.000106>',
      '4242<holder> 1796298144.852083 mmap(NULL, 1048576, PROT_READ|PROT_WRITE, MAP_SHARED, 3</w/a.index>, 0) = 0x7f00b5086000 <0.000050>',
      '4242<holder> 1796298144.852671 close(3</w/a.index>) = 0 <0.000135>',
      '4242<holder> 1796298144.852984 unlink("/w/a.index") = 0 <0.000038>',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'maps-end.txt'), '7f00b5086000-7f00b5186000 rw-s 00000000 fe:00 2449744                    /w/a.index (deleted)\n');
  return dir;
}

let unmount: (() => void) | null = null;
afterEach(() => {
  unmount?.();
  unmount = null;
});

describe("the detail of a bundle's finding", () => {
  it('says, as the text report does, that maps-end.txt confirms the mapping, and shows its maps line', async () => {
    const dir = bundle();
    const text = runCli(['analyze', dir]).stdout;
    const now = /^ {2}now {7}(.*)$/m.exec(text)?.[1];
    const maps = /^ {2}maps {6}(.*)$/m.exec(text)?.[1];
    expect(now).toBe('still mapped at the end of the trace (confirmed by /proc/4242/maps at the end)');
    expect(maps).toBe('7f00b5086000-7f00b5186000 rw-s 00000000 fe:00 2449744                    /w/a.index (deleted)');

    const store = new TuiStore({ source: { kind: 'file', names: [dir] }, throttleMs: 0 });
    await readIntoStore([dir], store, engineFeed(store));
    store.flush();
    const view = render(<App store={store} width={160} height={30} />);
    unmount = view.unmount;
    const frame = () => view.lastFrame() ?? '';
    await frameWhen(frame, (screen) => screen.includes('› ERR'), 'the finding listed');
    view.stdin.write(ENTER);
    const detail = await frameWhen(frame, (screen) => screen.includes('timeline of the file'), 'the detail');
    const lines = detail.split('\n');
    expect(lines).toContain(`now       ${now}`);
    expect(lines).toContain(`maps      ${maps}`);
    // In the text report's order: the maps line under the resolution.
    expect(lines.indexOf(`maps      ${maps}`)).toBe(lines.indexOf(`now       ${now}`) + 1);
  });
});

describe('/ in the detail', () => {
  it('says that it filters the findings (the timeline shows the matches, for n/N)', async () => {
    const { store } = storeFromTrace();
    const view = render(<App store={store} width={120} height={30} />);
    unmount = view.unmount;
    const frame = () => view.lastFrame() ?? '';
    await frameWhen(frame, (screen) => screen.includes('› '), 'the findings');
    view.stdin.write(ENTER);
    await frameWhen(frame, (screen) => screen.includes('timeline of the file'), 'the detail');
    view.stdin.write('/');
    const editing = await frameWhen(frame, (screen) => screen.includes('Enter keep'), 'the filter line');
    expect(editing).toContain('filter the findings (path text or pid; n/N: its lines here): ');
  });
});
