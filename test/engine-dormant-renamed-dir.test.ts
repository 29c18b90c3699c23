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
// A trace in orphanmap.bt's format, written here: the mapping's file is
// still linked at /e/f when /d/f goes, so no mapping outlived its file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';

const dir = mkdtempSync(join(tmpdir(), 'om-dormant-renamed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The life of /d/f: made and closed by 100, its directory renamed, mapped by 200 by an fd it received; then `unlinked` goes. */
function traceOf(unlinked: string): string {
  const lines = [
    'orphanmap-bt 1 begin ns=1000000000 cpu=0 self=9 root=0',
    '1000001000 0 100 100 open sys=openat ret=3 dfd=-100 flags=0x42 ino=77 dev=2049 path=/d/f',
    '1000002000 0 100 100 close fd=3 ret=0 ens=1000001900',
    '1000003000 0 100 100 rename.old path=/d',
    '1000003000 0 100 100 rename sys=rename ret=0 olddfd=-100 newdfd=-100 flags=0x0 path=/e',
    '1000004000 0 200 200 mmap ret=0x7f0000000000 addr=0x0 len=4096 prot=0x1 flags=0x1 fd=5 off=0x0 ino=77 dev=2049 nlink=1',
    `1000005000 0 100 100 unlink sys=unlink ret=0 dfd=-100 flags=0 path=${unlinked}`,
    '1000006000 0 0 0 end',
  ];
  return `${lines.join('\n')}\n`;
}

async function findingsOf(name: string, unlinked: string): Promise<string[]> {
  const file = join(dir, name);
  writeFileSync(file, traceOf(unlinked));
  const analysis = await analyze([file]);
  expect(analysis.inputs[0]!.format).toBe('bpftrace');
  expect(analysis.unparsedLines).toBe(0);
  return analysis.engine.findings().map((finding) => `${finding.kind} ${finding.path}`);
}

describe('a file let go, woken after its directory was renamed', () => {
  it('does not take back its name under the old directory: another /d/f going leaves it linked', async () => {
    expect(await findingsOf('old-name.txt', '/d/f')).toEqual([]);
  });

  it('is woken all the same where its directory was not renamed (the case waking is for)', async () => {
    const text = traceOf('/d/f').replace(/^.* rename(\.old)? .*\n/gm, '');
    const file = join(dir, 'not-renamed.txt');
    writeFileSync(file, text);
    const analysis = await analyze([file]);
    expect(analysis.engine.findings().map((finding) => `${finding.kind} ${finding.path}`)).toEqual(['unlinked-while-mapped /d/f']);
  });
});
