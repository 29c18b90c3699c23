// A real file named "#123" looks, in a -y annotation, like an O_TMPFILE file
// ("DIR/#INODE"). Opened through a link, mapped and unlinked while mapped, it
// is the mission's leak and must be an error, not the benign "mapped with no
// name left" (found by the final review of 2026-12-02: the annotation alone
// was taken for an O_TMPFILE open, though the open's flags said otherwise).
// Truth: the program's own /proc/self/maps. Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const PROGRAM = `
import mmap, os, sys
d, out = sys.argv[1], sys.argv[2]
os.makedirs(d, exist_ok=True)
real, link = os.path.join(d, '#123'), os.path.join(d, 'link')
with open(real, 'wb') as f:
    f.write(b'\\0' * 4096)
os.symlink('#123', link)
fd = os.open(link, os.O_RDWR)
m = mmap.mmap(fd, 4096)
os.close(fd)
os.unlink(real)
with open(out, 'w') as f:
    f.writelines(line for line in open('/proc/self/maps') if line.rstrip().endswith(' (deleted)'))
`;

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

it('reports a real file named "#123", opened through a link and unlinked while mapped, as an error', () => {
  const dir = workspace('hash-name');
  const trace = join(dir, 'trace.txt');
  const truthFile = join(dir, 'truth.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-yy', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, '-c', PROGRAM, join(dir, 'd'), truthFile], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  const truth = readFileSync(truthFile, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('/d/#123 (deleted)'));
  expect(truth).toHaveLength(1);
  const result = runCli(['analyze', trace, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
  expect(findings.map((finding) => [finding.kind, finding.address, finding.severity])).toEqual([['unlinked-while-mapped', `0x${truth[0]!.split('-')[0]!.replace(/^0+/, '')}`, 'error']]);
});
