// A launched command that unmaps its leaked mappings as the capture stops it
// (review 21's exactness review: Prometheus under `capture --duration`). The
// capture reads maps-end.txt, then sends the command SIGTERM, and the trace
// goes on with its munmaps and its exit. Each mapping was reported twice:
// once from the trace (unmapped), and again from maps-end.txt as a mapping
// no finding explained (still mapped, confirmed by the maps), though none
// was left at the end.
//
// A real python3 program under real strace (`capture --duration`). The
// truth is its own record: the addresses it left mapped when it unlinked
// their files, and that its SIGTERM handler unmapped them.
//
// Needs root and strace.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

/** Three files mapped and unlinked (their addresses in DIR/leaks); on SIGTERM, each unmapped (DIR/unmapped), then exit 0. */
const PROGRAM = `
import ctypes, mmap, os, signal, sys, time
d = sys.argv[1]
maps, leaks = [], []
for i in range(3):
    path = os.path.join(d, "seg%d.index" % i)
    with open(path, "wb") as f:
        f.write(b"\\0" * 8192)
    f = open(path, "r+b")
    m = mmap.mmap(f.fileno(), 8192)
    f.close()
    os.unlink(path)
    leaks.append("%x" % ctypes.addressof(ctypes.c_char.from_buffer(m)))
    maps.append(m)
with open(os.path.join(d, "leaks"), "w") as out:
    out.write("\\n".join(leaks))
def stop(signum, frame):
    for m in maps:
        m.close()
    with open(os.path.join(d, "unmapped"), "w") as out:
        out.write("%d" % len(maps))
    os._exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    time.sleep(1)
`;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review21-launched-stop-unmaps.test.ts must run as root (capture)');
  requireTool('strace');
});

it('a launched command that unmaps its leaks on the SIGTERM that ends the capture: each once, unmapped, none still mapped', () => {
  const work = workspace('launched-stop-unmaps');
  const bundle = join(work, 'bundle');
  const capture = runCli(['capture', '--duration', '3', '--out', bundle, '--', PYTHON, '-c', PROGRAM, work]);
  expect(capture.status, capture.stderr).toBe(0);
  const leaks = readFileSync(join(work, 'leaks'), 'utf8').split('\n');
  expect(leaks).toHaveLength(3);
  // The precondition: the maps were read while the three still lived, and the program then unmapped them.
  expect(readFileSync(join(work, 'unmapped'), 'utf8')).toBe('3');
  expect(existsSync(join(bundle, 'maps-end.txt'))).toBe(true);
  const mapsEnd = readFileSync(join(bundle, 'maps-end.txt'), 'utf8');
  for (const address of leaks) expect(mapsEnd).toMatch(new RegExp(`^${address}-\\S+ .* \\(deleted\\)$`, 'm'));

  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const orphans = (JSON.parse(result.stdout) as { findings: Finding[] }).findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
  expect(orphans.map((finding) => [finding.address, finding.length, finding.resolution]).sort()).toEqual(leaks.map((address) => [`0x${address}`, 8192, 'unmapped']).sort());
  const text = runCli(['analyze', bundle]).stdout;
  expect(text.split('\n')[0]).toContain('still mapped at the end: none, 3 unmapped later');
}, 60_000);
