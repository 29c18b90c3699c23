// Review 40, F3: `orphanmap capture --backend bpftrace -- prog < FILE`. The
// shell that ran the capture opened FILE on the command's stdin, before any
// trace; the command mapped it and removed FILE by its name. bpftrace gives
// the mmap an inode and the unlink a name, and nothing in the trace tied the
// two: the leak read as clean. The capture now reads its own stdin, which the
// command inherits, before the command runs (fds-inherited.txt), and the
// analysis binds fd 0 to it from the trace's start. Not fds-start.txt, read
// once the command ran: review 43 (F4) showed a file put on fd 0 after the
// mmap then took the mapping's name, a false error; the program here does
// just that, and removes that file too, which nothing maps.
// Truth: each process's own /proc/self/maps after the unlinks
// (test/scenarios/mapped-stdin.py).
//
// Needs bpftrace (as root, tracefs mounted) and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { CLI, requireTool, runCli } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'mapped-stdin.py');
const SIZE = 65536;

interface Truth {
  pid: number;
  child: number;
  parent: SelfMapsDeleted[];
  childDeleted: SelfMapsDeleted[];
}

beforeAll(() => {
  for (const tool of ['bpftrace', PYTHON]) requireTool(tool);
});

describe('a launched command maps the file on its stdin and removes it by name', () => {
  it('capture --backend bpftrace: both mappings /proc shows deleted are findings; the file put on fd 0 later and removed is none', () => {
    const dir = workspace('inherited-stdin');
    const file = join(dir, 'w', 'given.bin');
    const other = join(dir, 'w', 'other.bin');
    writeFileSync(file, Buffer.alloc(SIZE, 'g'));
    writeFileSync(other, Buffer.alloc(4096, 'o'));
    const bundle = join(dir, 'bundle');
    const stdin = openSync(file, 'r');
    let capture: ReturnType<typeof spawnSync>;
    try {
      capture = spawnSync(process.execPath, [CLI, 'capture', '--backend', 'bpftrace', '--out', bundle, '--', PYTHON, PROGRAM, file, other, dir], {
        encoding: 'utf8',
        stdio: [stdin, 'pipe', 'pipe'],
        timeout: 100_000,
      });
    } finally {
      closeSync(stdin);
    }
    expect(capture.status, String(capture.stderr)).toBe(0);
    const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
    expect(truth.parent).toHaveLength(1);
    expect(truth.childDeleted).toHaveLength(1);
    for (const deleted of [...truth.parent, ...truth.childDeleted]) expect(deleted).toMatchObject({ bytes: SIZE, path: file });
    expect(readFileSync(join(bundle, 'fds-inherited.txt'), 'utf8')).toBe(`0\t${file}\n`);

    const result = runCli(['analyze', bundle, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { findings: Finding[]; summary: { mappingsInDoubt: number } };
    const found = report.findings.map((finding) => `${finding.kind} ${finding.pid} ${finding.address} ${finding.length} ${finding.path} ${finding.unlinkedAt?.tid}`);
    expect(found.sort()).toEqual(
      [
        `unlinked-while-mapped ${truth.pid} ${truth.parent[0]!.address} ${SIZE} ${file} ${truth.pid}`,
        `unlinked-while-mapped ${truth.child} ${truth.childDeleted[0]!.address} ${SIZE} ${file} ${truth.pid}`,
      ].sort(),
    );
    expect(report.summary.mappingsInDoubt).toBe(0);
  }, 120_000);
});
