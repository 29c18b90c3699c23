// Review 3 of 2026-12, findings C and E, on small hand-written traces shaped
// like the reviewer's (/tmp/review3/p.c): what each rule does, the cases it
// must leave alone, and what every view says. test/engine-review3-real.test.ts
// runs them on real programs against their /proc.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/engine.js';
import type { Finding } from '../src/engine/findings.js';
import { resolutionText } from '../src/report/finding-view.js';
import { detailView } from '../src/tui/components/DetailPane.js';
import { runEngine, trace } from './helpers.js';
import { runCli } from './support/tools.js';

const RULE = 'mapped with no name left';

function unlinks(engine: Engine): { address: string; path: string; severity: string; unlinked: number | null; delayMs: number | null }[] {
  return engine
    .findings()
    .filter((finding) => finding.kind === 'unlinked-while-mapped')
    .map((finding) => ({ address: finding.address, path: finding.path, severity: finding.severity, unlinked: finding.unlinkedAt?.line ?? null, delayMs: finding.delayMs }));
}

describe('finding C: an O_TMPFILE open known by its flag, without -y', () => {
  it.each([
    ['/proc/self/fd/3', 'linkat(AT_FDCWD, "/proc/self/fd/3", AT_FDCWD, "/d/T", AT_SYMLINK_FOLLOW) = 0'],
    ['AT_EMPTY_PATH', 'linkat(3, "", AT_FDCWD, "/d/T", AT_EMPTY_PATH) = 0'],
  ])('linked by %s after the mmap, then unlinked: an error, named by the link', (_, link) => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD, "/d", O_RDWR|O_TMPFILE, 0600) = 3
      100 1796200000.000002 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000000000
      100 1796200000.000003 ${link}
      100 1796200000.000004 unlink("/d/T") = 0
      100 1796200000.000009 munmap(0x7f0000000000, 4096) = 0
    `);
    // Timed from the unlink, as every orphan is.
    expect(unlinks(engine)).toEqual([{ address: '0x7f0000000000', path: '/d/T', severity: 'error', unlinked: 4, delayMs: 0.005 }]);
    expect(engine.findings()[0]).toMatchObject({ names: ['/d/#?', '/d/T'], note: null });
    expect(engine.findings()[0]!.benign).toBeUndefined();
  });

  it('linked before the mmap, then unlinked: an error; the directory opened with O_TMPFILE keeps no second name', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD, "/d", O_RDONLY|O_DIRECTORY) = 5
      100 1796200000.000002 openat(AT_FDCWD, "/d", O_RDWR|O_TMPFILE, 0600) = 3
      100 1796200000.000003 linkat(AT_FDCWD, "/proc/self/fd/3", AT_FDCWD, "/d/T", AT_SYMLINK_FOLLOW) = 0
      100 1796200000.000004 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000000000
      100 1796200000.000005 unlink("/d/T") = 0
      100 1796200000.000006 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 5, 0) = 0x7f0000010000
      100 1796200000.000007 unlink("/d/T") = 0
    `);
    expect(unlinks(engine)).toEqual([{ address: '0x7f0000000000', path: '/d/T', severity: 'error', unlinked: 5, delayMs: null }]);
  });
});

describe("finding E: a mapping made with no name left is benign, and the mission's leak stays an error", () => {
  it('mapped after the unlink: info, rule "mapped with no name left", decided and timed from the mmap', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD</w>, "/w/A", O_RDWR|O_CREAT, 0644) = 3</w/A>
      100 1796200000.000002 unlink("/w/A") = 0
      100 1796200000.010000 mmap(NULL, 8192, PROT_READ, MAP_SHARED, 3</w/A>(deleted), 0) = 0x7f0000000000
      100 1796200000.015000 munmap(0x7f0000000000, 8192) = 0
    `);
    expect(unlinks(engine)).toEqual([{ address: '0x7f0000000000', path: '/w/A', severity: 'info', unlinked: 2, delayMs: 5 }]);
    expect(engine.findings()[0]!.benign).toBe(RULE);
  });

  it('a fork child inherits the verdict: benign for a mapping made with no name left, an error for one its file outlived', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD</w>, "/w/A", O_RDWR|O_CREAT, 0644) = 3</w/A>
      100 1796200000.000002 unlink("/w/A") = 0
      100 1796200000.000003 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3</w/A>(deleted), 0) = 0x7f0000000000
      100 1796200000.000004 openat(AT_FDCWD</w>, "/w/L", O_RDWR|O_CREAT, 0644) = 4</w/L>
      100 1796200000.000005 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 4</w/L>, 0) = 0x7f0000010000
      100 1796200000.000006 unlink("/w/L") = 0
      100 1796200000.000007 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f00) = 200
      200 1796200000.000009 exit_group(0) = ?
      200 1796200000.000010 +++ exited with 0 +++
    `);
    const child = engine.findings().filter((finding) => finding.pid === 200);
    expect(child.map((finding) => [finding.path, finding.severity, finding.benign ?? null, finding.resolution])).toEqual([
      ['/w/A', 'info', RULE, 'process-exited'],
      ['/w/L', 'error', null, 'process-exited'],
    ]);
    // The benign child's delay runs from the parent's mmap; the orphan's from the fork, when the child got its copy
    // (review 23, D7: from the unlink, a child that exec'd at once read as holding the file for seconds).
    expect(child.map((finding) => finding.delayMs)).toEqual([0.007, 0.003]);
    expect(child.map((finding) => finding.inheritedFrom ?? null)).toEqual([null, 100]);
    expect(resolutionText(child[1]!)).toBe("released when the process exited or exec'd 0.003 ms after the fork");
    expect(child[0]!.note).toMatch(/^Inherited by fork from process 100, which mapped this file when it had no name left\. The idiom for shared memory/);
  });

  it('a fork child of an O_TMPFILE mapping is benign, until a link names the file and an unlink orphans both', () => {
    const { engine } = runEngine(trace`
      100 1796200000.000001 openat(AT_FDCWD, "/d", O_RDWR|O_TMPFILE, 0600) = 3
      100 1796200000.000002 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000000000
      100 1796200000.000003 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f00) = 200
      100 1796200000.000004 linkat(AT_FDCWD, "/proc/self/fd/3", AT_FDCWD, "/d/T", AT_SYMLINK_FOLLOW) = 0
      100 1796200000.000005 unlink("/d/T") = 0
      200 1796200000.000009 exit_group(0) = ?
      200 1796200000.000010 +++ exited with 0 +++
    `);
    expect(engine.findings().map((finding) => [finding.pid, finding.path, finding.severity, finding.unlinkedAt?.line ?? null])).toEqual([
      [100, '/d/T', 'error', 5],
      [200, '/d/T', 'error', 5],
    ]);
    expect(engine.findings()[1]!.note).toBe('Inherited by fork from process 100, whose mapping of this file outlived it too.');
  });
});

describe('finding E: every view says the unlink first, times from the mapping, and counts nothing as held when unlinked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'om-review3-views-'));
  const input = join(dir, 'e.txt');
  writeFileSync(
    input,
    `${trace`
      100 1796200000.000001 openat(AT_FDCWD</w>, "/w/A", O_RDWR|O_CREAT, 0644) = 3</w/A>
      100 1796200000.000002 unlink("/w/A") = 0
      100 1796200000.010000 mmap(NULL, 8192, PROT_READ, MAP_SHARED, 3</w/A>(deleted), 0) = 0x7f0000000000
      100 1796200000.010001 openat(AT_FDCWD</w>, "/w", O_RDWR|O_TMPFILE, 0600) = 4</w/#77>(deleted)
      100 1796200000.010002 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 4</w/#77>(deleted), 0) = 0x7f0000010000
      100 1796200000.015000 munmap(0x7f0000000000, 8192) = 0
    `}\n`,
  );
  const run = (format: string) => {
    const result = runCli(['analyze', input, '--format', format, '--fail-on', 'error']);
    expect(result.status, result.stderr).toBe(0);
    return result.stdout;
  };

  it('text', () => {
    const text = run('text');
    // The trace starts with no execve (process 100 ran before it), and /w/A went: the headline says what that
    // process mapped before the trace is not known (summary.removedUnseen).
    expect(text).toMatch(
      /^orphanmap: no mapping was seen to outlive its file, but the name of a file the trace holds no mapping of went while a process that ran before the trace ran, and what that process mapped before the trace is not known \(see the warnings\); 2 benign \(mapped with no name left\)\.$/m,
    );
    expect(text).not.toContain('held when unlinked');
    expect(text).toContain(
      [
        `  unlinked  ${input}:2  1796200000.000002  tid 100  (before it was mapped)`,
        `  mapped    ${input}:3  1796200000.010000  tid 100`,
        `  now       unmapped at ${input}:6  1796200000.015000  tid 100, 5.0 ms after it was mapped`,
      ].join('\n'),
    );
    expect(text).toContain(['  unlinked  not in the trace: the file had no name when it was mapped', `  mapped    ${input}:5  1796200000.010002  tid 100`].join('\n'));
  });

  it('json and ndjson', () => {
    const report = JSON.parse(run('json')) as { findings: Finding[] };
    expect(report.findings.map((finding) => [finding.severity, finding.benign, finding.delayMs])).toEqual([
      ['info', RULE, 5],
      ['info', RULE, null],
    ]);
    const lines = run('ndjson')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Finding);
    expect(lines.every((finding) => finding.severity === 'info' && finding.benign === RULE)).toBe(true);
  });

  it('markdown and jira', () => {
    const markdown = run('markdown');
    expect(markdown).toContain('| `unlinked-while-mapped` | benign | 2 |   | 1 (4.0 KiB) |');
    expect(markdown).toContain(`| unlinked | ${input}:2, 1796200000.000002, tid 100 (before it was mapped) |\n| mapped | ${input}:3, 1796200000.010000, tid 100 |`);
    expect(markdown).toContain(`| now | unmapped at ${input}:6  1796200000.015000  tid 100, 5.0 ms after it was mapped |`);
    expect(markdown).toMatch(/\*\*Benign\.\*\* F1, F2: mapped when their file had no name left/);
    const jira = run('jira');
    expect(jira).toContain('|{{unlinked\\-while\\-mapped}}|benign|2| |1 \\(4.0 KiB\\)|');
    expect(jira).toContain('1796200000.000002, tid 100 \\(before it was mapped\\)|\n|mapped|');
  });

  it('TUI detail', () => {
    const report = JSON.parse(run('json')) as { findings: Finding[] };
    const summary = detailView(report.findings[0]!, 200, 40, null).summary.map((line) => line.text);
    expect(summary.slice(2, 5)).toEqual([
      `unlinked  ${input}:2 1796200000.000002 tid 100 (before it was mapped)`,
      `mapped    ${input}:3 1796200000.010000 tid 100`,
      `now       unmapped at ${input}:6  1796200000.015000  tid 100, 5.0 ms after it was mapped`,
    ]);
  });
});
