// Review 27 (exactness), F5: two files whose names differ only in a byte
// that is no part of UTF-8 ("\xfe.map" and "\xff.map", as an archive made
// under a Latin-1 locale leaves them) were one file: every reader decoded
// such a byte to U+FFFD, so the unlink of "\xfe.map", never mapped, read as
// a leak of the mapped "\xff.map" (exit 3), under strace and bpftrace alike.
// Each such byte is now U+DC00 plus the byte in every reader at once
// (strace's escapes, bpftrace's raw bytes, the bundle's maps-start.txt), so
// that a mapping seeded from maps-start.txt is still found by the name its
// unlink gives (the reverted 4cbb527 changed strace's reader alone).
//
// A real program (test/scenarios/byte-names.py) under `orphanmap capture`
// launched and `--pid`, both backends, and under strace -xx by hand. The
// truth: its own /proc/self/maps after the unlinks (read with Python's
// surrogateescape, which spells the byte 0xff "\udcff" as orphanmap's JSON
// does), and which names are still on disk.
//
// Needs root, strace, bpftrace and /usr/bin/python3.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, type SelfMapsDeleted, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { CLI, REPO, requireTool, runCli, STRACE_FILTER } from './support/tools.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'byte-names.py');

interface Truth {
  pid: number;
  deleted: SelfMapsDeleted[];
  kept: string[];
}

const children: ChildProcess[] = [];
afterEach(() => killStillRunning(children));
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review27-byte-names.test.ts must run as root (capture --pid, bpftrace)');
  requireTool('strace');
  requireTool('bpftrace');
  requireTool(PYTHON);
});

function truthOf(work: string): Truth {
  return JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as Truth;
}

/** The leaks orphanmap finds in `input`, as "PATH ADDRESS" (JSON: the byte 0xff is "\udcff"). */
function leaksFound(input: string): string[] {
  const result = runCli(['analyze', input, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const { findings } = JSON.parse(result.stdout) as { findings: Finding[] };
  return findings.filter((f) => f.kind === 'unlinked-while-mapped').map((f) => `${f.path} ${f.address}`);
}

/**
 * The leaks of `input` that `--path DIR/<byte>.map` keeps, the byte given raw on the command line (by the shell's
 * printf: a JavaScript string cannot hold a byte that is not UTF-8).
 */
function leaksFoundByPath(input: string, dir: string, octal: string): string[] {
  const script = `exec "$0" "$1" analyze "$2" --format json --path "$3$(printf '\\${octal}').map"`;
  const run = spawnSync('sh', ['-c', script, process.execPath, CLI, input, `${dir}/`], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { findings: Finding[] }).findings.map((f) => f.path);
}

/** The program's own word: the seeded "\xff.map" alone is deleted and mapped, its twin and the pair's mapped file keep their names. */
function expectSeededLeak(truth: Truth, work: string): string[] {
  expect(truth.deleted.map((d) => d.path)).toEqual([`${work}/seeded/\udcff.map`]);
  expect(truth.kept).toEqual([`${work}/seeded/\udcfe.map`, `${work}/pair/\udcff.map`]);
  return truth.deleted.map((d) => `${d.path} ${d.address}`);
}

/** The text report names the leak with its byte escaped, \xff, and no U+FFFD anywhere. */
function expectShownEscaped(input: string, work: string): void {
  const text = runCli(['analyze', input]);
  expect(text.status, text.stderr).toBe(0);
  expect(text.stdout).toContain(`${work}/seeded/\\xff.map`);
  expect(text.stdout).not.toContain('\\xfe');
  expect(text.stdout).not.toContain('\ufffd');
  expect(runCli(['analyze', input, '--fail-on', 'error']).status).toBe(3);
}

describe('names that differ only in a byte that is no part of UTF-8 are two names (review 27, F5)', () => {
  it('capture (strace) of the reviewer\'s program: the unlink of "\\xfe.map", never mapped, is no leak of the mapped "\\xff.map"', () => {
    const work = realpathSync(workspace('byte-names-pair'));
    const bundle = join(work, 'bundle');
    const capture = runCli(['capture', '--backend', 'strace', '--out', bundle, '--', PYTHON, PROGRAM, join(work, 'w'), 'pair']);
    expect(capture.status, capture.stderr).toBe(0);
    // The program's own word: nothing it maps was deleted, and the mapped file is still at its name.
    expect(truthOf(join(work, 'w'))).toMatchObject({ deleted: [], kept: [`${work}/w/pair/\udcff.map`] });
    // strace's lines: the two names, escaped.
    const trace = readFileSync(join(bundle, 'trace.txt'), 'latin1');
    expect(trace).toContain(`unlink("${work}/w/pair/\\376.map") = 0`);
    expect(trace).toMatch(/openat\(AT_FDCWD<[^>]*>, "[^"]*\/pair\/\\377\.map", O_RDWR\|O_CREAT\|O_CLOEXEC, 0600\) = \d+</);
    expect(leaksFound(bundle)).toEqual([]);
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(0);
  });

  it('strace -f -ttt -xx -yy by hand: the pair is clean, and the "\\xff.map" unlinked while mapped is the one leak', () => {
    const work = realpathSync(workspace('byte-names-xx'));
    const w = join(work, 'w');
    const trace = join(work, 'trace.txt');
    const run = spawnSync('strace', ['-f', '-ttt', '-xx', '-yy', '-s', '4096', '-e', `trace=${STRACE_FILTER}`, '-o', trace, PYTHON, PROGRAM, w, 'now'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    // -xx spells every byte of a string in hex: the names are no text at all to the reader.
    expect(readFileSync(trace, 'latin1')).toMatch(/unlink\("(\\x[0-9a-f]{2})+\\x2f\\xfe\\x2e\\x6d\\x61\\x70"\) = 0/);
    expect(leaksFound(trace)).toEqual(expectSeededLeak(truthOf(w), w));
    expectShownEscaped(trace, w);
    // A name given on the command line is read as the trace's are: the leak by its own byte, none by its twin's.
    expect(leaksFoundByPath(trace, `${w}/seeded`, '377')).toEqual([`${w}/seeded/\udcff.map`]);
    expect(leaksFoundByPath(trace, `${w}/seeded`, '376')).toEqual([]);
  });

  it.each(['strace', 'bpftrace'] as const)(
    'capture --pid --backend %s: a mapping of "\\xff.map" made before the capture (maps-start.txt) and unlinked during it is the one leak; its twin and the pair are not',
    async (backend) => {
      const work = realpathSync(workspace(`byte-names-${backend}`));
      const w = join(work, 'w');
      const program = spawn(PYTHON, [PROGRAM, w], { stdio: ['pipe', 'pipe', 'inherit'] });
      children.push(program);
      const programDone = exited(program);
      const lines = createInterface({ input: program.stdout! })[Symbol.asyncIterator]();
      expect((await lines.next()).value).toBe('ready');

      const bundle = join(work, 'bundle');
      const { captured } = await captureAttached(backend, program, bundle, children);
      program.stdin!.end('go\n');
      expect((await programDone).code).toBe(0);
      const result = await captured;
      expect(result.code, result.stderr).toBe(0);

      // maps-start.txt holds both seeded names as /proc printed them: their raw bytes.
      const start = readFileSync(join(bundle, 'maps-start.txt'));
      for (const byte of [0xfe, 0xff]) expect(start.includes(Buffer.concat([Buffer.from(`${w}/seeded/`), Buffer.from([byte]), Buffer.from('.map\n')]))).toBe(true);
      expect(leaksFound(bundle)).toEqual(expectSeededLeak(truthOf(w), w));
      expectShownEscaped(bundle, w);
    },
    180_000,
  );
});
