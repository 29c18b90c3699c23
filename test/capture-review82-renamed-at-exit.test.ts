// Review 82, E1: `capture --pid` of a program holding a file mapped from
// before the attach, renamed within its directory by a process the trace does
// not follow (a log or a database rotated by `mv`), the program exiting with
// it still mapped: /proc showed the new name, never "(deleted)", and the
// report made an error of it, exit 3. The capture's lookup at the exit
// (maps-start-gone.txt) found the old name leading nowhere and took the file
// for removed. It now looks in that directory for the same device and inode,
// linked, born before the capture read maps-start.txt: the file, keeping a
// name (renamed, or a hard link left), is not gone. A file born since is
// another one, though it may have the number: ext4 gives the number the
// exit freed to the next file made, at once.
//
// The lookup runs once the program has exited, the same under both tracers
// (bundle-lib.sh's om_gone_lookup): strace only here.
// Truth: the program's own /proc/self/maps before it exits, and stat of the
// files (their inode numbers and links) outside the trace.
//
// Needs root (it mounts), strace and mkfs.ext4.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { mountExt4 } from './support/ext4.js';
import { killStillRunning } from './support/proc.js';
import { CLI, REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

/**
 * Maps DIR/NAME/seg for each NAME given (shared, 8 KiB each), says "ready"
 * and waits for a line; then prints its own maps lines of DIR as JSON
 * ("0xADDRESS PATH", " (deleted)" kept) and exits with them all still mapped.
 */
const PROGRAM = `
import json, mmap, os, sys
directory = sys.argv[1]
held = []
for name in sys.argv[2:]:
    fd = os.open(os.path.join(directory, name, "seg"), os.O_RDWR)
    held.append(mmap.mmap(fd, 8192))
    os.close(fd)
print("ready", flush=True)
sys.stdin.readline()
lines = []
for line in open("/proc/self/maps"):
    fields = line.rstrip("\\n").split(None, 5)
    if len(fields) == 6 and fields[5].startswith(directory + "/"):
        lines.append("0x" + fields[0].split("-")[0] + " " + fields[5])
print(json.dumps(sorted(lines)), flush=True)
# Out without unmapping, as a JVM or git does (Python's own shutdown would unmap every mmap object first).
os._exit(0)
`;

const started: ChildProcess[] = [];
const mounts: string[] = [];
let work = '';
let files = '';

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review82-renamed-at-exit.test.ts must run as root (it mounts ext4 and captures --pid)');
  for (const tool of ['strace', 'mount', 'umount', 'mkfs.ext4', PYTHON]) requireTool(tool);
  work = workspace('review82-renamed-at-exit');
  files = join(work, 'fs');
  mountExt4(join(work, 'ext4.img'), files, mounts);
});
afterAll(() => {
  killStillRunning(started);
  for (const mount of mounts) spawnSync('umount', ['-l', mount]);
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

/** DIR/seg of 8 KiB for each name, made a little over a second ago: born before any capture's read of maps-start.txt, by a margin. */
async function segmentsIn(names: string[]): Promise<void> {
  for (const name of names) {
    mkdirSync(join(files, name));
    writeFileSync(join(files, name, 'seg'), 'x'.repeat(8192));
  }
  await new Promise((resolve) => setTimeout(resolve, 1100));
}

describe('capture --pid: a file mapped before the attach, renamed out of sight, held to the exit', () => {
  it('is not gone: renamed in its directory, or kept by a hard link; the one removed is an error', async () => {
    const names = ['renamed', 'linked', 'removed'];
    await segmentsIn(names);
    const target = spawn(PYTHON, ['-c', PROGRAM, files, ...names], { stdio: ['pipe', 'pipe', 'inherit'] });
    started.push(target);
    const lines = createInterface({ input: target.stdout! })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('ready');
    const bundle = mkdtempSync(join(work, 'bundle-'));
    rmSync(bundle, { recursive: true });
    const capture = spawn(process.execPath, [CLI, 'capture', '--backend', 'strace', '--pid', String(target.pid), '--out', bundle], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(capture);
    const captured = exited(capture);
    await waitFor('the capture to read maps-start.txt', () => existsSync(join(bundle, 'maps-start.txt')), 60_000);

    // Out of the trace's sight, while the program keeps them mapped.
    const linked = statSync(join(files, 'linked', 'seg'));
    renameSync(join(files, 'renamed', 'seg'), join(files, 'renamed', 'seg.old'));
    linkSync(join(files, 'linked', 'seg'), join(files, 'linked', 'seg.kept'));
    unlinkSync(join(files, 'linked', 'seg'));
    unlinkSync(join(files, 'removed', 'seg'));
    // A second and more before the exit: the lookup times each directory's change as one before it.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    target.stdin!.end('\n');
    const truth = JSON.parse((await lines.next()).value as string) as string[];
    const result = await captured;
    expect(result.code, result.stderr).toBe(0);

    // The truth: the kernel names the renamed file by its new name; the linked one's mapped name went (so /proc says
    // deleted), but the file keeps the other name, the same inode, linked; only the removed one lost its last name.
    const address = (path: string) => truth.find((line) => line.endsWith(` ${path}`))?.split(' ')[0];
    expect(truth.map((line) => line.slice(line.indexOf(' ') + 1)).sort()).toEqual([
      `${join(files, 'linked', 'seg')} (deleted)`,
      `${join(files, 'removed', 'seg')} (deleted)`,
      join(files, 'renamed', 'seg.old'),
    ]);
    const kept = statSync(join(files, 'linked', 'seg.kept'));
    expect([kept.ino, kept.nlink]).toEqual([linked.ino, 1]);

    const pathOf = (line: string) => line.slice(line.lastIndexOf(' ') + 1);
    expect(readFileSync(join(bundle, 'maps-start-gone.txt'), 'utf8').trim().split('\n').map(pathOf)).toEqual([join(files, 'removed', 'seg')]);
    expect(existsSync(join(bundle, 'maps-start-gone-late.txt'))).toBe(false);
    const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; summary: { mappingsInDoubt: number } };
    expect(report.findings.map((finding) => `${finding.kind} ${finding.address} ${finding.path}`)).toEqual([
      `unlinked-while-mapped ${address(`${join(files, 'removed', 'seg')} (deleted)`)} ${join(files, 'removed', 'seg')}`,
    ]);
    expect(report.summary.mappingsInDoubt).toBe(0);
  }, 90_000);
});

describe("the capture's lookup at the exit (om_gone_lookup), on the files themselves", () => {
  /** maps-start.txt's line of FILE as the kernel prints it: device major:minor in hex, then the inode. */
  function mapsLine(address: number, file: string): string {
    const { dev, ino } = statSync(file);
    const major = ((dev >> 8) & 0xfff).toString(16).padStart(2, '0');
    const minor = ((dev & 0xff) | ((dev >> 12) & 0xfff00)).toString(16).padStart(2, '0');
    return `${address.toString(16)}-${(address + 0x2000).toString(16)} r--s 00000000 ${major}:${minor} ${ino}                    ${file}`;
  }

  /** The time since boot in hundredths, as the capture reads it beside the epoch (/proc/uptime). */
  function uptimeHundredths(): number {
    return Math.round(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 100);
  }

  /** Runs om_gone_lookup on BUNDLE's maps-start.txt, the read of it begun at READ_BEGAN (epoch seconds) and UPTIME: the names found gone, and those found gone late. */
  function lookUp(bundle: string, readBegan: number, uptime: number): { gone: string[]; late: string } {
    const lookup = spawnSync(
      'bash',
      [
        '-c',
        'source "$1"; OM_D=$2; OM_START_MAPS_EPOCH=$3; OM_START_MAPS_UPTIME=$4; om_gone_lookup "$OM_D/.gone" "$5" && cat "$OM_D/.gone" && echo late && cat "$OM_D/.gone.late" 2> /dev/null; true',
        'bash',
        join(REPO, 'scripts', 'bundle-lib.sh'),
        bundle,
        readBegan.toFixed(6),
        String(uptime),
        (readBegan + 3).toFixed(6),
      ],
      { encoding: 'utf8' },
    );
    expect(lookup.status, lookup.stderr).toBe(0);
    const [gone, late] = lookup.stdout.split('late\n');
    return {
      gone: gone!
        .trim()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.slice(line.lastIndexOf(' ') + 1)),
      late: late!,
    };
  }

  it('takes a file made since the read, with the number of the mapped one, for another file', async () => {
    await segmentsIn(['reused', 'moved']);
    const reused = join(files, 'reused', 'seg');
    const moved = join(files, 'moved', 'seg');
    const bundle = mkdtempSync(join(work, 'lookup-'));
    writeFileSync(join(bundle, 'maps-start.txt'), `${mapsLine(0x7f0000000000, reused)}\n${mapsLine(0x7f0000010000, moved)}\n`);
    const before = statSync(reused);
    // The capture's read of maps-start.txt began now; the files were born over a second before.
    const readBegan = Date.now() / 1000;
    const uptime = uptimeHundredths();
    unlinkSync(reused);
    writeFileSync(join(files, 'reused', 'new'), 'made after the read');
    renameSync(moved, `${moved}.old`);
    // ext4 gave the freed number to the next file made in the same directory: what the lookup must not take for the mapped file.
    const made = statSync(join(files, 'reused', 'new'));
    expect([made.dev, made.ino]).toEqual([before.dev, before.ino]);

    const { gone, late } = lookUp(bundle, readBegan, uptime);
    // The removed file is gone, though a file of its number is at its directory; the renamed one is not.
    expect(gone).toEqual([reused]);
    expect(late).toBe('');
  });

  it('trusts no rename when the realtime clock went back during the capture: a file made after the read could pass for one born before', async () => {
    await segmentsIn(['stepped']);
    const moved = join(files, 'stepped', 'seg');
    const bundle = mkdtempSync(join(work, 'lookup-'));
    writeFileSync(join(bundle, 'maps-start.txt'), `${mapsLine(0x7f0000020000, moved)}\n`);
    renameSync(moved, `${moved}.old`);
    const readBegan = Date.now() / 1000;
    // The boot clock says 10 s more passed since the read than the realtime clock does: the latter was stepped back.
    expect(lookUp(bundle, readBegan, uptimeHundredths() - 1000).gone).toEqual([moved]);
    // The same rename, the two clocks agreeing: the file renamed in its directory is not gone.
    expect(lookUp(bundle, readBegan, uptimeHundredths()).gone).toEqual([]);
  });
});
