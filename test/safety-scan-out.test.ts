// Review 2, F6: `scan -o FILE`, run as root by cron or a metrics agent, wrote
// its temporary file at the predictable FILE.<pid>.tmp, following a link and
// opening a FIFO found there. The attacker here is a real process of the
// unprivileged user nobody, who owns the directory FILE is in (as a
// collector's group-writable directory, or /tmp without
// fs.protected_symlinks, lets them).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { asNobody, NOBODY } from './support/nobody.js';
import { CLI } from './support/tools.js';

const running: ChildProcess[] = [];

afterEach(() => {
  for (const child of running.splice(0)) child.kill('SIGKILL');
});

/** A directory nobody owns, and a root-only file elsewhere. */
function scene(): { home: string; victim: string } {
  const top = mkdtempSync(join(tmpdir(), 'orphanmap-scan-out-'));
  chmodSync(top, 0o755);
  const home = join(top, 'textfile');
  mkdirSync(home);
  chownSync(home, NOBODY, NOBODY);
  const vault = mkdtempSync(join(tmpdir(), 'orphanmap-scan-vault-'));
  const victim = join(vault, 'victim');
  writeFileSync(victim, 'VICTIM\n', { mode: 0o600 });
  return { home, victim };
}

interface Watch {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `scan --watch 0.2 -o OUT` of this process alone, as root. */
function watchInto(out: string): Watch {
  const child = spawn(process.execPath, [CLI, 'scan', '--pid', String(process.pid), '-f', 'prom', '--watch', '0.2', '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

/** Resolves once OUT has been replaced `rounds` more times (each round renames a new file over it). */
async function roundsWritten(out: string, rounds: number, watch: Watch): Promise<void> {
  let last = inodeOf(out);
  let seen = 0;
  const deadline = Date.now() + 15_000;
  while (seen < rounds) {
    if (watch.child.exitCode !== null) throw new Error(`scan exited with ${watch.child.exitCode}: ${watch.stderr()}`);
    if (Date.now() > deadline) throw new Error(`scan wrote ${seen} of ${rounds} rounds in 15 s: ${watch.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = inodeOf(out);
    if (now !== last && now !== null) {
      seen++;
      last = now;
    }
  }
}

function inodeOf(path: string): number | null {
  try {
    return statSync(path).ino;
  } catch {
    return null;
  }
}

describe('scan -o FILE in a directory another user can write', () => {
  it("a link planted at the old temporary name FILE.<pid>.tmp is never written through; FILE stays root's own file", async () => {
    const { home, victim } = scene();
    const out = join(home, 'orphanmap.prom');
    const watch = watchInto(out);
    await roundsWritten(out, 1, watch);
    asNobody(`ln -s '${victim}' '${out}.${watch.child.pid}.tmp'`);
    await roundsWritten(out, 3, watch);

    expect(readFileSync(victim, 'utf8')).toBe('VICTIM\n');
    expect(lstatSync(out).isFile()).toBe(true);
    expect(lstatSync(out).uid).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('# HELP orphanmap_vm_max_map_count');
    // The attacker's link is left alone; no temporary file of ours is left behind.
    expect(readdirSync(home).sort()).toEqual([`orphanmap.prom`, `orphanmap.prom.${watch.child.pid}.tmp`]);
  }, 40_000);

  it('a FIFO planted at the old temporary name does not hold the watch up', async () => {
    const { home } = scene();
    const out = join(home, 'orphanmap.prom');
    const watch = watchInto(out);
    await roundsWritten(out, 1, watch);
    asNobody(`mkfifo '${out}.${watch.child.pid}.tmp'`);
    // Without the fix the next round blocks in open(2) of the FIFO: no round follows.
    await roundsWritten(out, 3, watch);
    expect(lstatSync(out).isFile()).toBe(true);
  }, 40_000);

  it('FILE itself swapped for a link of the attacker between rounds: refused, naming it; the link target untouched', async () => {
    const { home, victim } = scene();
    const out = join(home, 'orphanmap.prom');
    const watch = watchInto(out);
    await roundsWritten(out, 1, watch);
    asNobody(`ln -s '${victim}' '${out}.new' && mv -f '${out}.new' '${out}'`);
    const status = await watch.exited;
    expect(status).toBe(2);
    expect(watch.stderr()).toContain(`${out}: error: cannot write the report: it is a symbolic link of another user (uid ${NOBODY})`);
    expect(readFileSync(victim, 'utf8')).toBe('VICTIM\n');
    expect(lstatSync(out).isSymbolicLink()).toBe(true);
  }, 40_000);

  it('a device written in place is closed after each round, not kept open once per round, and stays a device', async () => {
    // A null device of our own: the code before this fix renamed a regular
    // file over the -o path, and must not be able to do that to /dev/null.
    const device = join(mkdtempSync(join(tmpdir(), 'orphanmap-scan-dev-')), 'null');
    spawnSync('mknod', ['-m', '666', device, 'c', '1', '3']);
    const watch = watchInto(device);
    // The fds it holds between rounds: the least of ten counts 30 ms apart. A round holds some for a moment, the
    // report it writes and the /proc files of the process it scans (max_map_count, maps, comm), two at once at times:
    // one count could land in a round (CI of 819c4af: 21 against 19 under load). A leak of one a round raises the
    // least of them by about ten over the ten rounds below.
    const openFds = (): number => readdirSync(`/proc/${watch.child.pid}/fd`).length;
    const betweenRounds = async (): Promise<number> => {
      let least = Number.POSITIVE_INFINITY;
      for (let k = 0; k < 10; k++) {
        least = Math.min(least, openFds());
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      return least;
    };
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const before = await betweenRounds();
    // About ten more rounds at 0.2 s.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(watch.child.exitCode, watch.stderr()).toBeNull();
    expect(await betweenRounds()).toBeLessThanOrEqual(before + 1);
    expect(lstatSync(device).isCharacterDevice()).toBe(true);
  }, 20_000);

  it('one scan, as cron runs it: the file holds the whole text, mode 0644 under the usual umask, nothing else left in the directory', () => {
    const { home } = scene();
    const out = join(home, 'orphanmap.prom');
    const result = spawnSync('sh', ['-c', `umask 022 && exec "$0" "$1" scan --pid "$2" -f prom -o "$3"`, process.execPath, CLI, String(process.pid), out], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o644);
    expect(readFileSync(out, 'utf8')).toMatch(/^# HELP [\s\S]*\n$/);
    expect(readdirSync(home)).toEqual(['orphanmap.prom']);
  });
});
