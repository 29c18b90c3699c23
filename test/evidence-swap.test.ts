// Evidence lines are read again from the trace when a report is written
// (issue #14: kept as positions). A bundle is untrusted input, often analysed
// as root: if its trace is swapped for a link to another file between the
// analysis and the report, the report must not quote that file's bytes.
import { mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-evidence-swap-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const TRACE = [
  '11020 1795606335.100000 openat(AT_FDCWD, "/data/t-0/0.index", O_RDWR|O_CREAT, 0644) = 5',
  '11020 1795606335.100100 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 5, 0) = 0x7f0000000000',
  '11020 1795606335.100200 close(5) = 0',
  '11020 1795606335.100300 unlink("/data/t-0/0.index") = 0',
  '',
].join('\n');

describe('evidence read again from the trace', () => {
  it('is read from the file that was analysed', async () => {
    const path = join(scratch, 'same.txt');
    writeFileSync(path, TRACE);
    const analysis = await analyze([path]);
    const [finding] = analysis.engine.findings();
    // The file's life: every line, as the input has it.
    expect(finding?.evidence.map((line) => line.text)).toEqual(TRACE.trimEnd().split('\n'));
  });

  it('is read from the file that was analysed, not from a link to another file put at its path since', async () => {
    const path = join(scratch, 'trace.txt');
    writeFileSync(path, TRACE);
    const analysis = await analyze([path]);
    const secret = join(scratch, 'secret');
    writeFileSync(secret, `${'S'.repeat(400)}\n`);
    const link = join(scratch, 'link');
    symlinkSync(secret, link);
    renameSync(link, path);
    const [finding] = analysis.engine.findings();
    // The input stays open as it was checked (review 5): read through that descriptor, the link is never followed.
    expect(finding?.evidence.map((line) => line.text)).toEqual(TRACE.trimEnd().split('\n'));
  });
});
