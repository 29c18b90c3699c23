// The real directories of opened files (issue #10): orphanmap.bt's `dir`
// records and an open's `dir=`, on a real capture (test/fixtures/bpftrace/symlink-dir/README.md).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { OpenEvent, TraceEvent } from '../src/parse/events.js';
import { BpftraceReader, RealDirectories, parseBpftraceLine } from '../src/parse/bpftrace.js';
import { readLines } from './support/trace-text.js';

const fixture = (name: string): string => readFileSync(fileURLToPath(new URL(`fixtures/bpftrace/${name}`, import.meta.url)), 'utf8');
const SYMLINK_DIR = fixture('symlink-dir/trace.bt.txt');

/** Lines of the capture, by what they contain. */
function line(containing: string): string {
  const found = SYMLINK_DIR.split('\n').find((text) => text.includes(containing));
  if (found === undefined) throw new Error(`no line with ${containing}`);
  return found;
}

function opens(events: TraceEvent[]): OpenEvent[] {
  return events.filter((event): event is OpenEvent => event.kind === 'open');
}

function read(text: string): { events: TraceEvent[]; reader: BpftraceReader } {
  const reader = new BpftraceReader('trace.bt.txt');
  return { ...readLines(reader, text.endsWith('\n') ? text.slice(0, -1) : text), reader };
}

describe('bpftrace dir records', () => {
  it('reads a directory: its id, its parent, and its name from the hex of its bytes', () => {
    expect(parseBpftraceLine(line('len=4 name=7265616c'), 1, 'x')).toEqual({
      type: 'dir',
      dir: { id: 0xe5e58de7dd257b00n, up: 0xe5e58de7d9f41d00n, name: 'real', cut: false },
    });
  });

  it('reads the root of a mount as a directory without a name of its own', () => {
    const record = parseBpftraceLine(line('dir id=0x9f67a99c28c53000'), 1, 'x');
    expect(record).toMatchObject({ type: 'dir', dir: { id: 0x9f67a99c28c53000n, name: null, cut: false } });
  });

  it('reads a directory whose parent is the process root as up=0', () => {
    expect(parseBpftraceLine(line('name=746d7000'), 1, 'x')).toMatchObject({ type: 'dir', dir: { up: 0n, name: 'tmp' } });
  });

  it('marks a name longer than the 64 bytes a record holds as cut', () => {
    const record = parseBpftraceLine(`5 0 1 1 dir id=0x100 up=0x0 len=70 name=61${'61'.repeat(63)}`, 1, 'x');
    expect(record).toMatchObject({ type: 'dir', dir: { name: null, cut: true } });
  });

  it('decodes a name as UTF-8, like the paths of other records', () => {
    const record = parseBpftraceLine(`5 0 1 1 dir id=0x100 up=0x0 len=6 name=64c3a96ac3a0${'0'.repeat(116)}`, 1, 'x');
    expect(record).toMatchObject({ type: 'dir', dir: { name: 'déjà' } });
  });

  it('counts a dir record whose name is not hex as unreadable', () => {
    expect(parseBpftraceLine('5 0 1 1 dir id=0x100 up=0x0 len=3 name=tmp', 1, 'x')).toMatchObject({ type: 'diagnostic' });
    expect(parseBpftraceLine('5 0 1 1 dir id=0x100 len=3 name=746d70', 1, 'x')).toMatchObject({ type: 'diagnostic' });
  });

  it("reads an open's dir= as the directory's id and, in the low byte, the length of the file's name there", () => {
    const record = parseBpftraceLine(line('path=/tmp/omw-symlink/link/abs.map'), 1, 'x');
    expect(record).toMatchObject({ type: 'event', realDir: { id: 0xe5e58de7dd257b00n, nameBytes: 7 }, event: { kind: 'open', path: '/tmp/omw-symlink/link/abs.map' } });
  });

  it('reads an open without dir= (captures made before it) as before', () => {
    const old = line('path=/tmp/omw-symlink/link/abs.map').replace(/ dir=0x[0-9a-f]+/, '');
    const record = parseBpftraceLine(old, 1, 'x');
    expect(record.type).toBe('event');
    expect(record).not.toHaveProperty('realDir');
  });
});

describe('the real path of an opened file', () => {
  it('gives each open through a symlink the path the kernel resolved, the one /proc/PID/maps shows', () => {
    const { events, reader } = read(SYMLINK_DIR);
    const hints = new Map(
      opens(events)
        .filter((open) => open.path.includes('omw-symlink') || open.path === 'rel.map')
        .map((open) => [open.path, open.resolvedHint]),
    );
    // README.md beside the capture: the (deleted) lines of /proc/self/maps.
    expect(hints).toEqual(
      new Map([
        ['rel.map', '/tmp/omw-symlink/real/rel.map'],
        ['/tmp/omw-symlink/link/abs.map', '/tmp/omw-symlink/real/abs.map'],
        ['/tmp/omw-symlink/shm/s.map', '/dev/shm/omw-symlink/s.map'],
        ['/tmp/omw-symlink/link/same.map', '/tmp/omw-symlink/real/same.map'],
      ]),
    );
    expect(reader.warnings()).toEqual([]);
  });

  it('gives an open outside any symlink its own path back', () => {
    const { events } = read(SYMLINK_DIR);
    const libc = opens(events).find((open) => open.path === '/lib/x86_64-linux-gnu/libc.so.6');
    // /lib is a symlink to usr/lib on Debian 12.
    expect(libc?.resolvedHint).toBe('/usr/lib/x86_64-linux-gnu/libc.so.6');
    const script = opens(events).find((open) => open.path.endsWith('/symlink-dir/work.py'));
    expect(script?.resolvedHint).toBe(script?.path);
  });

  it('still resolves an open whose dir records arrive after it (another CPU), within the reorder window', () => {
    const dirs = ['len=3 name=746d7000', 'up=0xe5e58de59af99f00 len=11', 'len=4 name=7265616c'].map(line);
    const open = line('path=/tmp/omw-symlink/link/abs.map');
    const { events } = read([open, ...dirs].join('\n'));
    expect(opens(events)[0]!.resolvedHint).toBe('/tmp/omw-symlink/real/abs.map');
  });

  it('leaves an open without its directory described (a lost record) to the name the process gave', () => {
    const { events, reader } = read(line('path=/tmp/omw-symlink/link/abs.map'));
    expect(opens(events)[0]!.resolvedHint).toBeUndefined();
    expect(reader.warnings().join('\n')).not.toContain('directories');
  });

  it('keeps an old capture without dir records as it was read before', () => {
    const { events } = read(fixture('python-segments.txt'));
    expect(opens(events).length).toBeGreaterThan(0);
    expect(opens(events).filter((open) => open.resolvedHint !== undefined)).toEqual([]);
  });

  it('warns when a directory name was too long to describe', () => {
    const { reader } = read(`5 0 1 1 dir id=0x100 up=0x0 len=80 name=61${'61'.repeat(63)}`);
    expect(reader.warnings().join('\n')).toContain('1 directories have names longer than 64 bytes');
  });
});

describe('RealDirectories', () => {
  const dirs = (): RealDirectories => {
    const table = new RealDirectories();
    table.describe({ id: 0x100n, up: 0n, name: 'data', cut: false });
    table.describe({ id: 0x200n, up: 0x100n, name: 't-0', cut: false });
    return table;
  };

  it('joins the names up to the process root', () => {
    expect(dirs().pathOf(0x200n)).toBe('/data/t-0');
    expect(dirs().realPath('/kafka/t-0/0.index', { id: 0x200n, nameBytes: 7 })).toBe('/data/t-0/0.index');
  });

  it('follows a renamed directory once it is described again', () => {
    const table = dirs();
    table.describe({ id: 0x200n, up: 0x100n, name: 't-0.abc-delete', cut: false });
    expect(table.pathOf(0x200n)).toBe('/data/t-0.abc-delete');
  });

  it('gives no path when a step is unknown, or the chain loops', () => {
    const table = dirs();
    table.describe({ id: 0x300n, up: 0x999n, name: 'x', cut: false });
    expect(table.pathOf(0x300n)).toBeNull();
    table.describe({ id: 0x400n, up: 0x500n, name: 'a', cut: false });
    table.describe({ id: 0x500n, up: 0x400n, name: 'b', cut: false });
    expect(table.pathOf(0x400n)).toBeNull();
  });

  it('gives no path when the last name the process gave is not the one the kernel found (a symlink to a file)', () => {
    expect(dirs().realPath('/data/t-0/link-to-index', { id: 0x200n, nameBytes: 7 })).toBeNull();
  });

  it('reads a file directly under the root', () => {
    const table = new RealDirectories();
    expect(table.realPath('f.map', { id: 0n, nameBytes: 5 })).toBe('/f.map');
  });
});
