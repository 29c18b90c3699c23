// Review 55, M1: numpy's memmap(mode='w+') over a file a live memmap maps
// opens it with O_TRUNC, writes it back to its size and maps it again: the
// file changed size under the first mapping, the resize signature, yet no
// remapped-without-unmap came (only an ftruncate or truncate counted), and
// where a later, longer mapping gave one, its note said no size change came
// between. An open with O_TRUNC of a file with a live mapping is a size change.
// Truth: the program's own record (test/scenarios/truncated-open.py): its
// mappings' addresses, and the file's size (0) right after the second open.
//
// Needs strace, bpftrace (as root, tracefs mounted) and /usr/bin/python3.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { GROWN_OUT_OF_SIGHT } from '../src/engine/finding-log.js';
import { PYTHON, tracePython, workspace } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'scenarios', 'truncated-open.py');

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});

it.each(['strace', 'capture-bpftrace'] as const)(
  '%s: a file emptied by an open with O_TRUNC under a live mapping, then mapped again, is a resize',
  (how) => {
    const dir = workspace(`truncated-open-${how}`);
    const input = tracePython(dir, how, PROGRAM, [dir]);
    const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { first: string; second: string; sizeAtReopen: number };
    expect(truth.sizeAtReopen).toBe(0);
    const result = runCli(['analyze', input, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    const findings = (JSON.parse(result.stdout) as { findings: Finding[] }).findings;
    expect(findings.map((finding) => [finding.kind, finding.address, finding.newAddress, finding.length])).toEqual([['remapped-without-unmap', truth.first, truth.second, 65536]]);
    expect(findings[0]!.note).not.toBe(GROWN_OUT_OF_SIGHT);
    // The note names the open that emptied it (code review 58, F4): the file's second open, the one with O_TRUNC.
    const at = /an open with O_TRUNC at (.+):(\d+),/.exec(findings[0]!.note ?? '');
    expect(at, findings[0]!.note ?? 'no note').not.toBeNull();
    const opens = readFileSync(at![1]!, 'utf8')
      .split('\n')
      .slice(0, Number(at![2]))
      .filter((line) => (how === 'strace' ? /openat\(.*\/w\.dat", .*O_TRUNC/ : / open sys=openat ret=3 .* path=\S+\/w\.dat /).test(line));
    expect(opens).toHaveLength(2);
    if (how === 'capture-bpftrace') expect(Number.parseInt(/ flags=(0x[0-9a-f]+) /.exec(opens[1]!)![1]!, 16) & 0o1000 /* O_TRUNC */).not.toBe(0);
  },
  120_000,
);
