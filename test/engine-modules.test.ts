// The engine's modules at their seams: the named benign rules every view asks,
// path normalisation, and one known limit of the wait for a clone in flight.
import { describe, expect, it } from 'vitest';
import { benignRuleFor } from '../src/engine/benign.js';
import { normalizePath } from '../src/engine/engine.js';
import { runEngine, trace } from './helpers.js';

describe('benign rules: one named place', () => {
  it('names the JVM hsperfdata file, with the note a report prints', () => {
    const rule = benignRuleFor('/tmp/hsperfdata_kafka/5958');
    expect(rule?.name).toBe('JVM hsperfdata at exit');
    expect(rule?.note).toMatch(/^The JVM's own performance-data file \(hsperfdata\)/);
    // test/engine.test.ts checks that the engine gives a finding of this file this note, as severity info.
  });

  it('knows no rule for other files, nor for an hsperfdata directory or a name that is not a pid', () => {
    for (const path of ['/kafka-logs/t-0/00000000000000000000.index', '/tmp/hsperfdata_kafka', '/tmp/hsperfdata_/5958', '/tmp/hsperfdata_kafka/5958.tmp']) {
      expect(benignRuleFor(path), path).toBeNull();
    }
  });
});

describe('normalizePath (exported by the engine)', () => {
  it.each([
    ['/a//b/./c', '/a/b/c'],
    ['/a/b/../c', '/a/c'],
    ['/../a', '/a'],
    ['./a/../..', '..'],
    ['a/./', 'a'],
    ['.', '.'],
    ['/plain/path', '/plain/path'],
  ])('%s → %s', (path, normal) => {
    expect(normalizePath(path)).toBe(normal);
  });
});

describe('the wait for a clone in flight', () => {
  // Known limit, stated rather than hidden: the events of a thread never seen
  // before wait while a clone is in flight, but later events of known threads
  // do not. Here 501's mmap (printed before the unlink) is applied after it,
  // so the mapping is never seen live at the unlink and its orphan is missed.
  // Without the clone in flight the same lines give the finding. A fix makes
  // this test fail: then turn it into a plain `it`.
  it("keeps the order of a waiting thread's mmap and a known thread's unlink", () => {
    const { engine } = runEngine(trace`
      500 1.000001 openat(AT_FDCWD, "/d/x", O_RDWR) = 3
      502 1.000002 openat(AT_FDCWD, "/d/y", O_RDONLY) = 4
      500 1.000003 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f <unfinished ...>
      501 1.000004 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000000000
      502 1.000005 unlink("/d/x") = 0
      500 1.000006 <... clone resumed>) = 600
    `);
    expect(engine.findings().map((finding) => [finding.kind, finding.pid, finding.path])).toEqual([['unlinked-while-mapped', 500, '/d/x']]);
  });

  it('finds that orphan when no clone is in flight', () => {
    const { engine } = runEngine(trace`
      500 1.000001 openat(AT_FDCWD, "/d/x", O_RDWR) = 3
      502 1.000002 openat(AT_FDCWD, "/d/y", O_RDONLY) = 4
      501 1.000004 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000000000
      502 1.000005 unlink("/d/x") = 0
    `);
    expect(engine.findings().map((finding) => [finding.kind, finding.pid, finding.path])).toEqual([['unlinked-while-mapped', 500, '/d/x']]);
  });
});
