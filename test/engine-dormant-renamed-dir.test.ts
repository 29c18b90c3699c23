// A file the engine let go (opened, closed: nothing holds it) is woken when a
// process maps it by an fd the trace never saw opened (one sent over a unix
// socket), and takes back the names it had. Not a name under a directory
// renamed since: the file is not there any more. Before, it took `/d/f` back
// after `mv /d /e`, and an unlink of a new /d/f (made where the trace does
// not look) read as the removal of the mapped file's last name: a false
// error. The engine now finds the names under a renamed directory without
// copying its table of let-go names at every rename of a name it does not
// know (issue #14: a rename-heavy capture spent an eighth of what it
// allocated copying it); this test holds the behaviour that table is for.
//
// A trace in orphanmap.bt's format, written here: the mapped files are
// still linked at /e/f and /e/g when /d/f and /d/g go, so no mapping
// outlived its file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';

const dir = mkdtempSync(join(tmpdir(), 'om-dormant-renamed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The lives of /d/f and /d/g: made and closed by 100, their directory renamed, mapped by 200 and 201 by fds they
 * received; then `unlinked` go. Two files, so that a search that let only the first one sleep would be seen.
 */
function traceOf(...unlinked: string[]): string {
  const lines = [
    'orphanmap-bt 1 begin ns=1000000000 cpu=0 self=9 root=0',
    '1000001000 0 100 100 open sys=openat ret=3 dfd=-100 flags=0x42 ino=77 dev=2049 path=/d/f',
    '1000002000 0 100 100 close fd=3 ret=0 ens=1000001900',
    '1000002100 0 100 100 open sys=openat ret=3 dfd=-100 flags=0x42 ino=78 dev=2049 path=/d/g',
    '1000002200 0 100 100 close fd=3 ret=0 ens=1000002150',
    '1000003000 0 100 100 rename.old path=/d',
    '1000003000 0 100 100 rename sys=rename ret=0 olddfd=-100 newdfd=-100 flags=0x0 path=/e',
    '1000004000 0 200 200 mmap ret=0x7f0000000000 addr=0x0 len=4096 prot=0x1 flags=0x1 fd=5 off=0x0 ino=77 dev=2049 nlink=1',
    '1000004100 0 201 201 mmap ret=0x7f0000000000 addr=0x0 len=4096 prot=0x1 flags=0x1 fd=5 off=0x0 ino=78 dev=2049 nlink=1',
    ...unlinked.map((path, k) => `${1000005000 + k} 0 100 100 unlink sys=unlink ret=0 dfd=-100 flags=0 path=${path}`),
    '1000006000 0 0 0 end',
  ];
  return `${lines.join('\n')}\n`;
}

async function findingsOf(name: string, text: string): Promise<string[]> {
  const file = join(dir, name);
  writeFileSync(file, text);
  const analysis = await analyze([file]);
  expect(analysis.inputs[0]!.format).toBe('bpftrace');
  expect(analysis.unparsedLines).toBe(0);
  return analysis.engine.findings().map((finding) => `${finding.kind} ${finding.path}`);
}

describe('files let go, woken after their directory was renamed', () => {
  it('do not take back their names under the old directory: another /d/f and /d/g going leave them linked', async () => {
    expect(await findingsOf('old-names.txt', traceOf('/d/f', '/d/g'))).toEqual([]);
  });

  it('are woken all the same where their directory was not renamed (the case waking is for)', async () => {
    const text = traceOf('/d/f', '/d/g').replace(/^.* rename(\.old)? .*\n/gm, '');
    expect(await findingsOf('not-renamed.txt', text)).toEqual(['unlinked-while-mapped /d/f', 'unlinked-while-mapped /d/g']);
  });
});
