// The analyzer on a real capture of scripts/orphanmap.bt (bpftrace 0.17):
// the format is detected from content, per-CPU streams are put back in order,
// and the findings match the (deleted) lines the workload printed.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { REPO } from './support/tools.js';

const FIXTURE = join(REPO, 'test', 'fixtures', 'bpftrace', 'python-segments.txt');

describe('analyze on a bpftrace capture', () => {
  it('reports the mappings /proc/self/maps listed as (deleted), with inode-based identity', async () => {
    const analysis = await analyze([FIXTURE]);
    expect(analysis.inputs[0]!.format).toBe('bpftrace');
    expect(analysis.unparsedLines).toBe(0);
    const orphans = analysis.engine.findings().filter((f) => f.kind === 'unlinked-while-mapped');
    const main = orphans
      .filter((f) => f.pid === orphans[0]!.pid)
      .map((f) => `${f.address} ${f.path}`)
      .sort();
    // README.md beside the fixture: the main process's maps before exit.
    expect(main).toEqual(['0x7fc9b820b000 /tmp/omw/data dir/hard link.bin', '0x7fc9b8fe1000 /tmp/omw/data dir/00000001.index.deleted', '0x7fc9b8fe2000 /tmp/omw/data dir/00000000.index.deleted']);
    // The forked child mapped and unlinked child.bin, then exited with status 3.
    expect(orphans.filter((f) => f.path.endsWith('/child.bin'))).toMatchObject([{ resolution: 'process-exited' }]);
    expect(analysis.engine.findings().filter((f) => f.kind === 'remapped-without-unmap')).toHaveLength(2);
  });
});
