// Review 2, finding 7: `analyze --out FILE`, run as root, must not follow a
// link that another user planted at FILE to replace a file that user could
// not write. The attacker is a real process of an unprivileged user (nobody).
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, REPO, runCli } from './support/tools.js';

const TRACE = join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt');
const NOBODY = 65534;

/** A directory nobody owns, and a root-only file elsewhere. */
function scene(): { home: string; victim: string } {
  const top = mkdtempSync(join(tmpdir(), 'orphanmap-rv2-out-'));
  chmodSync(top, 0o755);
  const home = join(top, 'home');
  spawnSync('mkdir', [home]);
  chownSync(home, NOBODY, NOBODY);
  const vault = mkdtempSync(join(tmpdir(), 'orphanmap-rv2-vault-'));
  const victim = join(vault, 'victim');
  writeFileSync(victim, 'VICTIM\n', { mode: 0o600 });
  return { home, victim };
}

function asNobody(command: string, args: string[]): void {
  const result = spawnSync(command, args, { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} as nobody: ${result.stderr}`);
}

describe('--out FILE and symbolic links', () => {
  it("another user's link to a root-only file: refused, the file untouched, the link left as it was", () => {
    const { home, victim } = scene();
    const out = join(home, 'r.md');
    asNobody('ln', ['-s', victim, out]);
    for (const format of ['markdown', 'json']) {
      const result = runCli(['analyze', TRACE, '--format', format, '--out', out]);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(`${out}: error: cannot write the report: it is a symbolic link of another user (uid ${NOBODY})`);
      expect(readFileSync(victim, 'utf8')).toBe('VICTIM\n');
      expect(lstatSync(victim).mode & 0o777).toBe(0o600);
      expect(readlinkSync(out)).toBe(victim);
    }
  });

  it("another user's dangling link, or one to /dev/null: refused too", () => {
    const { home } = scene();
    const links: [string, string][] = [
      ['dangling.md', join(home, 'nothing-yet')],
      ['null.md', '/dev/null'],
    ];
    for (const [name, target] of links) {
      const out = join(home, name);
      asNobody('ln', ['-s', target, out]);
      expect(runCli(['analyze', TRACE, '--out', out]).status).toBe(2);
    }
  });

  it("another user's FIFO, planted or behind a link of ours: refused at once, never waited on (found by the final review)", () => {
    const { home } = scene();
    const fifo = join(home, 'report.md');
    asNobody('mkfifo', [fifo]);
    const ours = join(mkdtempSync(join(tmpdir(), 'orphanmap-rv2-ours-')), 'r.md');
    symlinkSync(fifo, ours);
    for (const out of [fifo, ours]) {
      // Without the rule, opening the FIFO blocks until nobody reads it: the timeout says so.
      const result = spawnSync(process.execPath, [CLI, 'analyze', TRACE, '--out', out], { encoding: 'utf8', timeout: 10_000 });
      expect(result.signal).toBeNull();
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toContain(`cannot write the report: it is a FIFO of another user (uid ${NOBODY})`);
    }
  });

  it('a FIFO of this user is written into, as a reader of it expects', () => {
    const fifo = join(mkdtempSync(join(tmpdir(), 'orphanmap-rv2-own-fifo-')), 'report.json');
    spawnSync('mkfifo', [fifo]);
    const run = spawnSync('sh', ['-c', `cat "$1" > "$1.read" & node "$2" analyze "$3" --format json --out "$1"; wait`, 'sh', fifo, CLI, TRACE], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(readFileSync(`${fifo}.read`, 'utf8')).schema).toMatch(/^orphanmap\/report@/);
  });

  it('a link of this user is followed: the file it names gets the report, its mode kept, the link stays', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orphanmap-rv2-out-own-'));
    const file = join(dir, 'report.md');
    writeFileSync(file, 'old\n', { mode: 0o640 });
    symlinkSync(file, join(dir, 'latest.md'));
    const result = runCli(['analyze', TRACE, '--format', 'markdown', '--out', join(dir, 'latest.md')]);
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^# orphanmap report/);
    expect(lstatSync(file).mode & 0o777).toBe(0o640);
    expect(lstatSync(join(dir, 'latest.md')).isSymbolicLink()).toBe(true);
  });

  it('/dev/stdout (a link of root) with stdout a file: the report reaches that file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orphanmap-rv2-out-stdout-'));
    const file = join(dir, 'captured.json');
    const result = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" analyze "${TRACE}" --format json --out /dev/stdout > "${file}"`], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveProperty('findings');
  });

  it('a set-user-ID mode is not copied onto the report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orphanmap-rv2-out-mode-'));
    const file = join(dir, 'r.md');
    writeFileSync(file, 'old\n');
    chmodSync(file, 0o4755);
    expect(runCli(['analyze', TRACE, '--out', file]).status).toBe(0);
    expect(lstatSync(file).mode & 0o7777).toBe(0o755);
  });
});
