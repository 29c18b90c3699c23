// Review 4, finding 3: a bundle's maps-end.txt showed mappings of deleted
// files that the report said nothing about. A capture attached to a process
// sees only its calls: when another process removes a file the captured one
// keeps mapped (`git gc` under a long-lived `git cat-file --batch`, a
// cleaner, retention run elsewhere), the trace holds no unlink, and the leak
// is in /proc alone. Such a mapping is a finding (review 1, D1; the test of
// its own: maps-end-removed-by-others.test.ts). What is left for a warning,
// naming them: files that keep a second name (a hard link) after the name
// they were mapped by went, which /proc shows deleted too. The capture counts
// their links just after reading maps-end.txt (maps-end.nlink, review 33):
// the warning says they are no leaks. Without that count (an older bundle),
// it names those the trace shows keeping a second name, which may have gone
// out of its sight.
// The truth is the holder's own /proc/self/maps, read by it after the capture.
//
// Needs root (strace attaches to a process that is not its child) and strace.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON } from './scenarios/harness.js';
import { tracerPid } from './support/proc.js';
import { CLI, requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

/**
 * Maps E, F and G shared, then H1, H2 and H3 private, twice each (two maps
 * lines a file, below F's: a library's or an executable's segments look so);
 * says "ready"; on "unlink" unlinks G itself, and gives F and each H a second
 * name (NAME.kept) before it unlinks NAME; on "maps" prints its own
 * "(deleted)" lines, then "end"; exits at EOF.
 */
const HOLDER = `
import mmap, os, sys
d = sys.argv[1]
kept = []
for name in ('E', 'F', 'G'):
    fd = os.open(f'{d}/{name}', os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, 8192)
    kept.append(mmap.mmap(fd, 8192))
    os.close(fd)
for name in ('H1', 'H2', 'H3'):
    fd = os.open(f'{d}/{name}', os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, 4096)
    for _ in range(2):
        kept.append(mmap.mmap(fd, 4096, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ))
    os.close(fd)
print('ready', flush=True)
for line in sys.stdin:
    if line.strip() == 'unlink':
        os.unlink(f'{d}/G')
        for name in ('F', 'H1', 'H2', 'H3'):
            os.link(f'{d}/{name}', f'{d}/{name}.kept')
            os.unlink(f'{d}/{name}')
        print('unlinked', flush=True)
    elif line.strip() == 'maps':
        for entry in open('/proc/self/maps'):
            if entry.rstrip().endswith(' (deleted)'):
                print('deleted', entry.rstrip(), flush=True)
        print('end', flush=True)
`;

/** The CLI with `args`, run to its end without blocking the event loop (the holder is read meanwhile). */
function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

let work: string;
let holder: ChildProcess | null = null;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/bundle-maps-end-unexplained.test.ts must run as root: strace attaches to a process that is not its child');
  requireTool('strace');
  work = mkdtempSync(join(tmpdir(), 'orphanmap-maps-end-'));
});
afterAll(() => {
  holder?.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

describe("deleted files' mappings in maps-end.txt that the trace cannot explain", () => {
  it('are findings when another process removed them, and the one the traced process unlinked itself is one; those the trace shows kept by a hard link are named in a warning, a file once however many its lines and shared ones first', async () => {
    holder = spawn(PYTHON, ['-c', HOLDER, work], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: holder.stdout! })[Symbol.asyncIterator]();
    const next = async () => (await lines.next()).value as string;
    expect(await next()).toBe('ready');
    const pid = holder.pid!;
    const bundle = join(work, 'bundle');
    const capture = cli(['capture', '--pid', String(pid), '--duration', '3', '--out', bundle]);
    await waitFor('strace to attach to the holder', () => tracerPid(pid) !== 0, 20_000);
    // After maps-start.txt (fds-start.txt is written next): a file gone before it is a finding of its own.
    await waitFor('the start snapshots', () => existsSync(join(bundle, 'fds-start.txt')), 20_000);
    // This test process is not traced: its unlink of E is not in the trace.
    unlinkSync(join(work, 'E'));
    holder.stdin!.write('unlink\n');
    expect(await next()).toBe('unlinked');
    const captured = await capture;
    expect(captured.status, captured.stderr).toBe(0);
    holder.stdin!.write('maps\n');
    const deleted: string[] = [];
    for (let line = await next(); line !== 'end'; line = await next()) deleted.push(line.slice('deleted '.length));
    holder.stdin!.end();
    /** Each deleted file's maps lines, from the holder's own maps: path → [start, shared] of each. */
    const truth = new Map<string, [string, boolean][]>();
    for (const line of deleted) {
      const [range, perms] = line.split(' ');
      const path = line.slice(line.lastIndexOf(' ', line.length - ' (deleted)'.length - 1) + 1, -' (deleted)'.length);
      truth.set(path, [...(truth.get(path) ?? []), [`0x${range!.slice(0, range!.indexOf('-'))}`, perms!.endsWith('s')]]);
    }
    expect([...truth.keys()].sort()).toEqual(['E', 'F', 'G', 'H1', 'H2', 'H3'].map((name) => join(work, name)));
    expect(truth.get(join(work, 'H1'))).toHaveLength(2);

    const analyzed = await cli(['analyze', bundle, '--format', 'json']);
    expect(analyzed.status, analyzed.stderr).toBe(0);
    const report = JSON.parse(analyzed.stdout) as { findings: { path: string; address: string; unlinkedAt: unknown }[]; warnings: string[] };
    // G's unlink is in the trace; E's is not (unlinkedAt null): a finding all the same, from maps-end.txt.
    expect(report.findings.map((finding) => `${finding.path} ${finding.address} ${finding.unlinkedAt === null}`)).toEqual([
      `${join(work, 'G')} ${truth.get(join(work, 'G'))![0]![0]} false`,
      `${join(work, 'E')} ${truth.get(join(work, 'E'))![0]![0]} true`,
    ]);
    // Four files, not seven lines; the one mapped shared first, though the others lie below it.
    const lowest = (path: string) =>
      truth
        .get(path)!
        .map(([start]) => start)
        .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))[0];
    const privates = ['H1', 'H2', 'H3'].map((name) => join(work, name)).sort((a, b) => (BigInt(lowest(a)!) < BigInt(lowest(b)!) ? -1 : 1));
    expect(BigInt(lowest(privates[0]!)!) < BigInt(lowest(join(work, 'F'))!)).toBe(true);
    const named = [`${join(work, 'F')} at ${lowest(join(work, 'F'))}`, ...privates.slice(0, 2).map((path) => `${path} at ${lowest(path)} (2 mappings)`)];
    expect(report.warnings.filter((text) => text.includes('"(deleted)"') || text.includes('no finding explains'))).toEqual([
      `${join(bundle, 'maps-end.txt')}: process ${pid} maps 4 files that /proc prints "(deleted)" though another name kept each (a hard link: the capture counted their links just after reading the maps, maps-end.nlink), so they are no leaks: ${named.join(', ')}, and 1 more`,
    ]);
    // Without the count (a bundle of an older capture): the files the trace shows keeping a second name, which may have
    // gone out of its sight, are named in a warning; the findings stay.
    const older = join(work, 'older');
    cpSync(bundle, older, { recursive: true });
    rmSync(join(older, 'maps-end.nlink'));
    const withoutCount = await cli(['analyze', older, '--format', 'json']);
    expect(withoutCount.status, withoutCount.stderr).toBe(0);
    const olderReport = JSON.parse(withoutCount.stdout) as { findings: { path: string }[]; warnings: string[] };
    expect(olderReport.findings.map((finding) => finding.path)).toEqual([join(work, 'G'), join(work, 'E')]);
    expect(olderReport.warnings.filter((text) => text.includes('"(deleted)"') || text.includes('no finding explains'))).toEqual([
      `${join(older, 'maps-end.txt')}: process ${pid} still maps 4 deleted files that no finding explains: the trace shows the name each was mapped by removed while another name kept the file (a hard link: /proc shows the mapping deleted though the file lives), and no removal of that other name; if it went too, it went by a call the trace does not show (another process removed it, the filter left the call out, or it went after the trace ended: maps-end.txt is read just after the tracer stops), so they are not reported as findings: ${named.join(', ')}, and 1 more`,
    ]);
  }, 60_000);
});
