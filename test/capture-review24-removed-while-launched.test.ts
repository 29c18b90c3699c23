// Review 24 (exactness), D3: rsync's daemon launched under `capture --` (both
// backends) and `live --`, while dpkg, outside the trace, reinstalled the
// liblz4 it mapped. maps-end.txt showed the library deleted; the report made
// a finding of each of its lines (five, for four mmaps), said the trace did
// not show the mappings made ("mapped" was a maps-end.txt line) though
// trace.txt showed ld.so's four mmaps, and called them still mapped though
// the trace showed the daemon's exit. A launched command's maps are read
// before the capture stops it, so the trace goes on to its exit: the engine
// had no space left to look in, and looked in an empty one.
//
// A real program (test/scenarios/removed-while-launched.py) maps a file
// through a symlink, as ld.so loads a library by its soname (bpftrace names
// the symlink, /proc the file), twice, one of them split in two by
// mprotect; this test removes the file and the link, outside the trace. The
// truth is the program's own: the address and length of each mmap, and its
// /proc/self/maps lines of the deleted file.
//
// Needs root, strace, bpftrace and /usr/bin/python3.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'removed-while-launched.py');

interface Truth {
  pid: number;
  mmaps: { address: string; length: number }[];
  deleted: SelfMapsDeleted[];
}

const children: ChildProcess[] = [];
afterEach(() => killStillRunning(children));
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review24-removed-while-launched.test.ts must run as root (bpftrace)');
  requireTool('bpftrace');
  requireTool('strace');
  requireTool(PYTHON);
});

describe('a launched command whose mapped file a process outside the trace removes (review 24, D3)', () => {
  it.each(['strace', 'bpftrace'] as const)(
    'capture --backend %s -- CMD: one finding per mmap, mapped where the trace shows it, released by the exit the trace shows',
    async (backend) => {
      const work = realpathSync(workspace(`removed-while-launched-${backend}`));
      const data = join(work, 'data.bin');
      writeFileSync(data, Buffer.alloc(4 * 4096, 'd'));
      symlinkSync('data.bin', join(work, 'data.link'));
      const bundle = join(work, 'bundle');
      // --duration counts from the attach; the capture reads the maps at the end, then stops the command.
      const capture = spawn(process.execPath, [CLI, 'capture', '--backend', backend, '--duration', '8', '--out', bundle, '--', PYTHON, PROGRAM, work], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(capture);
      const captured = exited(capture);
      await waitFor('the program to map the file', () => existsSync(join(work, 'mapped')), 120_000);
      // dpkg's way with a library: the file goes while mapped, by a process the capture does not trace.
      unlinkSync(data);
      unlinkSync(join(work, 'data.link'));
      writeFileSync(join(work, 'removed'), '');
      await waitFor('the program to write its truth', () => existsSync(join(work, 'truth.json')), 30_000);
      const result = await captured;
      expect(result.code, result.stderr).toBe(0);

      const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as Truth;
      // The program's own word: three lines of the deleted file, the first mmap's two (split by mprotect) and the second's.
      expect(truth.deleted.map((line) => line.path)).toEqual([data, data, data]);
      const maps = readFileSync(join(bundle, 'maps-end.txt'), 'utf8');
      expect(maps.split('\n').filter((line) => line.endsWith(`${data} (deleted)`))).toHaveLength(3);

      const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[] };
      const trace = readFileSync(join(bundle, 'trace.txt'), 'utf8').split('\n');
      const findings = report.findings.filter((finding) => finding.pid === truth.pid).sort((a, b) => Number(BigInt(a.address) - BigInt(b.address)));
      const mmaps = [...truth.mmaps].sort((a, b) => Number(BigInt(a.address) - BigInt(b.address)));
      // One finding per mmap, as the program made them, not one per line /proc printed.
      expect(findings.map((finding) => [finding.address, finding.length])).toEqual(mmaps.map((mmap) => [mmap.address, mmap.length]));
      for (const finding of findings) {
        expect(finding.kind).toBe('unlinked-while-mapped');
        expect(finding.path).toBe(data);
        // Mapped where the trace shows the mmap that returned its address.
        expect(finding.mappedAt?.file).toBe(join(bundle, 'trace.txt'));
        expect(trace[finding.mappedAt!.line - 1]).toMatch(
          backend === 'strace' ? new RegExp(`^${truth.pid}\\S* .*\\bmmap\\(.* = ${finding.address}\\b`) : new RegExp(` ${truth.pid} mmap ret=${finding.address} `),
        );
        // Released by the exit the trace shows after the maps were read.
        expect(finding.resolution).toBe('process-exited');
        expect(finding.resolvedAt?.file).toBe(join(bundle, 'trace.txt'));
        expect(trace[finding.resolvedAt!.line - 1]).toMatch(
          backend === 'strace' ? new RegExp(`^${truth.pid}\\S* .*\\+\\+\\+ killed by SIGTERM \\+\\+\\+`) : new RegExp(` ${truth.pid} ${truth.pid} exit `),
        );
        expect(finding.confirmedByMaps).toBe(true);
        expect(finding.note).not.toContain('Nor does the trace show the mapping made');
      }
      expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(3);
    },
    180_000,
  );
});
