// The real CLI, from dist/, on real traces and on bad input.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { CLI, REPO, runCli } from './support/tools.js';
import { spawnSync } from 'node:child_process';

const LEAKY = join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt');
const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-cli-'));

function scratchFile(name: string, content: string | Buffer): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

describe('orphanmap analyze', () => {
  it('prints a verdict, the counts and one block per finding', () => {
    const { status, stdout } = runCli(['analyze', LEAKY]);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^orphanmap: 8 mappings outlived their files in process \d+ \(80\.0 MiB held when unlinked; still mapped at the end: none, 8 released when the process exited\)/);
    expect(stdout).toContain('findings: 8 unlinked-while-mapped (error), 8 remapped-without-unmap (warning), 1 benign');
    expect(stdout).toMatch(/ERROR {3}F\d+ unlinked-while-mapped {2}pid \d+\n {2}file {6}\/tmp\/orphanmap-repro\/f-o-ttt-T-y\/topic-\d\/\d{20}\.(time)?index\.deleted\n {2}was {7}/);
  });

  it('writes the report@1 JSON with the documented field names', () => {
    const { stdout } = runCli(['analyze', LEAKY, '--format', 'json']);
    const report = JSON.parse(stdout);
    expect(report.schema).toBe('orphanmap/report@1');
    expect(Object.keys(report.summary)).toEqual(['lines', 'events', 'fileEvents', 'mappingsInDoubt', 'removedUnseen', 'undecided', 'unparsedLines', 'processes', 'findings']);
    expect(report.inputs[0]).toMatchObject({ path: LEAKY, format: 'strace', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const finding = report.findings.find((f: Finding) => f.kind === 'unlinked-while-mapped');
    for (const key of [
      'id',
      'kind',
      'severity',
      'pid',
      'path',
      'names',
      'address',
      'length',
      'mappedAt',
      'unlinkedAt',
      'remappedAt',
      'newAddress',
      'resolution',
      'resolvedAt',
      'delayMs',
      'confirmedByMaps',
      'evidence',
    ]) {
      expect(finding, key).toHaveProperty(key);
    }
    expect(finding.mappedAt).toMatchObject({ file: LEAKY, line: expect.any(Number), time: expect.stringMatching(/^\d+\.\d{6}$/), tid: expect.any(Number) });
    expect(finding.evidence.map((e: { text: string }) => e.text).join('\n')).toMatch(/mmap\(NULL, (10485760|10485756),(.|\n)*unlink\(/);
  });

  it('streams NDJSON: each finding when decided and again when resolved', () => {
    const { stdout } = runCli(['analyze', LEAKY, '--format', 'ndjson']);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Finding);
    const first = lines.find((f) => f.kind === 'unlinked-while-mapped')!;
    expect(first.resolution).toBeNull();
    expect(lines.filter((f) => f.id === first.id).at(-1)!.resolution).toBe('process-exited');
  });

  it('reads stdin with -', () => {
    const { status, stdout } = runCli(['analyze', '-', '--format', 'json'], 'openat(AT_FDCWD, "/d/a", O_RDWR) = 3\nmmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000\nunlink("/d/a") = 0\n');
    expect(status).toBe(0);
    expect(JSON.parse(stdout).findings).toMatchObject([{ path: '/d/a', address: '0x10000', resolution: 'still-mapped' }]);
  });

  it('filters by --path glob and --pid, and exits 3 with --fail-on', () => {
    const timeindex = JSON.parse(runCli(['analyze', LEAKY, '--format', 'json', '--path', '*.timeindex*']).stdout);
    expect(timeindex.findings.length).toBe(8);
    expect(timeindex.findings.every((f: Finding) => f.names.some((n) => n.includes('.timeindex')))).toBe(true);
    expect(JSON.parse(runCli(['analyze', LEAKY, '--format', 'json', '--pid', '1']).stdout).findings).toEqual([]);
    expect(runCli(['analyze', LEAKY, '--fail-on', 'error']).status).toBe(3);
  });

  // Review 25 (exactness), D10: a relative glob, which matches no absolute name, kept none of 17 errors, and the
  // report said "no mapping outlived its file", exit 0 with --fail-on, with no word of the filter.
  it('says when --path keeps none of the findings, and how a pattern matches', () => {
    const all = (JSON.parse(runCli(['analyze', LEAKY, '--format', 'json']).stdout) as { findings: Finding[] }).findings.length;
    expect(all).toBeGreaterThan(0);
    const missed = JSON.parse(runCli(['analyze', LEAKY, '--format', 'json', '--path', 'kafka-logs/*.timeindex*']).stdout) as { findings: Finding[]; warnings: string[] };
    expect(missed.findings).toEqual([]);
    expect(missed.warnings).toContain(
      `--path matched none of the ${all} findings, so the report shows none of them: findings name files by absolute paths; a pattern with a '/' must match the whole path (start it with '/' or '**/'), one without matches the last component`,
    );
    // One that keeps some says nothing of the kind.
    const kept = JSON.parse(runCli(['analyze', LEAKY, '--format', 'json', '--path', '**/*.timeindex*']).stdout) as { findings: Finding[]; warnings: string[] };
    expect(kept.findings.length).toBeGreaterThan(0);
    expect(kept.warnings.filter((text) => text.startsWith('--path matched none'))).toEqual([]);
  });

  it("exits 2 with --fail-on when --pid names no process of the trace: a pass would be the typo's", () => {
    const typo = runCli(['analyze', LEAKY, '--fail-on', 'error', '--pid', '1']);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/^orphanmap: error: --pid 1: no process 1 in the trace, .*--fail-on error cannot tell that nothing leaked$/m);
    // Without --fail-on it stays a warning beside the (empty) report.
    expect(runCli(['analyze', LEAKY, '--pid', '1']).status).toBe(0);
  });

  it('names a missing file and exits 2, without a stack trace', () => {
    const { status, stderr } = runCli(['analyze', join(scratch, 'nope.txt')]);
    expect(status).toBe(2);
    expect(stderr.trim()).toBe(`orphanmap: ${join(scratch, 'nope.txt')}: error: no such file`);
  });

  it('counts binary junk, orphan resumes and cut-off calls as unreadable lines with their numbers', () => {
    const file = scratchFile(
      'bad.txt',
      Buffer.concat([
        Buffer.from('1 openat(AT_FDCWD, "/d/a", O_RDWR) = 3\n'),
        Buffer.from([0x00, 0xff, 0x1b, 0x5b, 0x32, 0x4a, 0x0a]),
        Buffer.from('1 <... mmap resumed>) = 0x10000\n'),
        Buffer.from('1 syscall_0x1c3(0x1, 0x2) = 0\n'),
        Buffer.from('1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0 <unfinished ...>\n'),
        Buffer.from('1 munmap(0x10000, 40'),
      ]),
    );
    const { status, stdout } = runCli(['analyze', file]);
    expect(status).toBe(0);
    expect(stdout).toContain('unreadable lines 4');
    // The byte 0xff, no part of UTF-8, shown as that byte (review 27, F5).
    expect(stdout).toContain(`${file}:2: not a strace line: \\x00\\xff\\x1b[2J`);
    expect(stdout).toContain(`${file}:3: "<... mmap resumed>" with no start on thread 1`);
    expect(stdout).toContain(`${file}:5: mmap call cut off by the end of the trace`);
    expect(stdout).toContain(`${file}:6: unterminated argument list of munmap`);
    expect(stdout).not.toContain('\u001b');
  });

  it('handles an empty file, a cut 512 KiB line and a 10 MiB line (over the 1 MiB limit)', () => {
    expect(runCli(['analyze', scratchFile('empty.txt', '')]).stdout).toContain('empty input');
    const cut = scratchFile('cut.txt', `1 openat(AT_FDCWD, "/d/${'x'.repeat(512 * 1024)}\n1 close(3) = 0\n`);
    const read = runCli(['analyze', cut]);
    expect(read.status).toBe(0);
    expect(read.stdout).toMatch(/cut\.txt:1: unterminated argument list of openat: 1 openat.*… \(\d+ characters\)/);
    const huge = scratchFile('huge.txt', `1 openat(AT_FDCWD, "/d/${'x'.repeat(10 * 1024 * 1024)}\n1 close(3) = 0\n`);
    const skipped = runCli(['analyze', huge]);
    expect(skipped.status).toBe(0);
    expect(skipped.stdout).toContain(`huge.txt:1: line of ${(10 * 1024 * 1024 + 23).toLocaleString('en-US')} characters, longer than the 1 MiB limit: not read: 1 openat(AT_FDCWD, "/d/xxx`);
  });
});

describe('orphanmap analyze into a closed pipe', () => {
  it('stops quietly when the reader goes away (… | head)', () => {
    const result = spawnSync('sh', ['-c', `node ${CLI} analyze ${LEAKY} --format json | head -c 10`], { encoding: 'utf8' });
    expect(result.stdout).toBe('{\n  "schem');
    expect(result.stderr).not.toMatch(/EPIPE|Unhandled/);
  });

  // Review 70, L1: `… --fail-on error 2>&1 | head` closes stderr too; the write of the message to it crashed the run
  // (exit 1, "a bug") in place of its exit status. The reader closes the pipe before the run starts writing.
  it('keeps its exit status when the reader of its stderr goes away', () => {
    const said = (redirect: string) => spawnSync('bash', ['-c', `node ${CLI} analyze ${join(REPO, 'traces', 'gc')} --fail-on error ${redirect}; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    // With its stderr read: an input error (a directory that is no bundle), said, exit 2.
    const read = said('2>&1 >/dev/null | cat');
    expect(read.stdout).toMatch(/^orphanmap: .*traces\/gc: error: is a directory with neither meta\.json/);
    expect(read.stdout.trim().split('\n').at(-1)).toBe('2');
    const closed = said('2>&1 >/dev/null | (exec 0<&-; sleep 0.5)');
    expect([closed.stdout.trim(), closed.stderr]).toEqual(['2', '']);
  });
});
