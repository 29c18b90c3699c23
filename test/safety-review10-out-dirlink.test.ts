// Review 10, R10-5: `scan -o`, `analyze --out` and `report --out DIR`, run as
// root, followed a symbolic link that another user (the real unprivileged
// user nobody) planted as a DIRECTORY of the path: only the last component
// was checked, so `-o /tmp/x/home/metrics/victim.prom` with metrics a link
// of nobody's to a root-only directory replaced root's file there. Every
// component is now walked under the rule of the last one: a link of root's
// or of this user's is followed, another user's is refused.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asNobody, NOBODY, nobodysHomeBesideVault } from './support/nobody.js';
import { CLI, REPO, runCli, runCliAsync } from './support/tools.js';

const TRACE = join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt');

interface Scene {
  /** A directory nobody owns, where nobody plants links. */
  home: string;
  /** A directory only root may write, and root's file in it. */
  vault: string;
  victim: string;
}

function scene(): Scene {
  const { home, vault } = nobodysHomeBesideVault('orphanmap-rv10-dirlink-');
  const victim = join(vault, 'victim.prom');
  writeFileSync(victim, 'ROOT CONTENT\n', { mode: 0o644 });
  return { home, vault, victim };
}

/** What must not change: the file's bytes, inode and mtime, and what the directory holds. */
function truthOf(scene: Scene): { content: string; ino: number; mtimeMs: number; names: string[] } {
  const info = statSync(scene.victim);
  return { content: readFileSync(scene.victim, 'utf8'), ino: info.ino, mtimeMs: info.mtimeMs, names: readdirSync(scene.vault).sort() };
}

const refusal = (link: string) => `${link} is a symbolic link of another user (uid ${NOBODY}), which orphanmap never follows`;

describe("another user's link as a directory of the output path", () => {
  it("scan -o: refused, naming the link and its owner; root's file untouched", () => {
    const s = scene();
    const link = join(s.home, 'metrics');
    asNobody(`ln -s '${s.vault}' '${link}'`);
    const before = truthOf(s);
    const out = join(link, 'victim.prom');
    const result = runCli(['scan', '-f', 'prom', '--pid', String(process.pid), '-o', out]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toBe(`orphanmap: ${out}: error: cannot write the report: ${refusal(link)}; name a path without it\n`);
    expect(truthOf(s)).toEqual(before);
  });

  it("analyze --out, in each format: refused; root's file untouched", () => {
    const s = scene();
    const link = join(s.home, 'metrics');
    asNobody(`ln -s '${s.vault}' '${link}'`);
    const before = truthOf(s);
    for (const format of ['json', 'markdown']) {
      const result = runCli(['analyze', TRACE, '--format', format, '--out', join(link, 'victim.prom')]);
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toContain(refusal(link));
      expect(truthOf(s)).toEqual(before);
    }
  });

  it("report --out DIR: refused; no directory made in root's", () => {
    const s = scene();
    const link = join(s.home, 'metrics');
    asNobody(`ln -s '${s.vault}' '${link}'`);
    const before = truthOf(s);
    const result = runCli(['report', TRACE, '--out', join(link, 'evidence')]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain(refusal(link));
    expect(truthOf(s)).toEqual(before);
  });

  it("deeper on the path, behind a link of root's, or before a `..`: refused all the same", () => {
    const s = scene();
    const link = join(s.home, 'metrics');
    asNobody(`ln -s '${s.vault}' '${link}'`);
    // root's own link whose target goes through nobody's.
    const rootsLink = join(mkdtempSync(join(tmpdir(), 'orphanmap-rv10-roots-')), 'collector');
    symlinkSync(link, rootsLink);
    const before = truthOf(s);
    for (const out of [join(rootsLink, 'victim.prom'), `${link}/../home/metrics/victim.prom`, `${link}/./victim.prom`]) {
      const result = runCli(['scan', '-f', 'prom', '--pid', String(process.pid), '-o', out]);
      expect(result.status, `${out}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(refusal(link));
      expect(truthOf(s)).toEqual(before);
    }
  });
});

describe('a link swapped while the path is walked', () => {
  it("root's link in nobody's directory, renamed away and back around nobody's own while scans run: no report ever lands in root's directory", async () => {
    const s = scene();
    const landing = join(s.home, 'landing');
    asNobody(`mkdir '${landing}'`);
    const rootsLink = join(s.home, 'metrics');
    symlinkSync(landing, rootsLink);
    const before = truthOf(s);
    // nobody may rename root's link: the directory is theirs and not sticky.
    const swap = `cd '${s.home}' && while :; do mv -T metrics kept; ln -s '${s.vault}' metrics; mv -fT kept metrics; sleep 0.02; done`;
    const swapper = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'sh', '-c', swap], { stdio: 'ignore' });
    const outcomes = new Set<string>();
    try {
      for (let round = 0; round < 20; round++) {
        const result = await runCliAsync(['scan', '-f', 'prom', '--pid', String(process.pid), '-o', join(rootsLink, 'victim.prom')]);
        outcomes.add(result.status === 0 ? 'written' : (/: error: (cannot write the report: [^(\n]*)/.exec(result.stderr)?.[1] ?? result.stderr));
        expect(truthOf(s)).toEqual(before);
      }
    } finally {
      swapper.kill('SIGKILL');
    }
    for (const outcome of outcomes) expect(outcome).toMatch(/^(written|cannot write the report: .*(symbolic link of another user|was replaced while it was read|no such directory).*)$/);
  });
});

describe('links that are followed', () => {
  it("a link of root's as a directory: scan -o, analyze --out and report --out DIR write where it leads", () => {
    const s = scene();
    const link = join(mkdtempSync(join(tmpdir(), 'orphanmap-rv10-roots-')), 'metrics');
    symlinkSync(s.vault, link);
    const scan = runCli(['scan', '-f', 'prom', '--pid', String(process.pid), '-o', join(link, 'victim.prom')]);
    expect(scan.status, scan.stderr).toBe(0);
    expect(readFileSync(s.victim, 'utf8')).toMatch(/^# HELP orphanmap_/);
    const analyze = runCli(['analyze', TRACE, '--format', 'json', '--out', join(link, 'r.json')]);
    expect(analyze.status, analyze.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(s.vault, 'r.json'), 'utf8'))).toHaveProperty('findings');
    const report = runCli(['report', TRACE, '--out', join(link, 'evidence')]);
    expect(report.status, report.stderr).toBe(0);
    expect(readdirSync(join(s.vault, 'evidence'))).toContain('SHA256SUMS');
  });

  it("a relative path through this user's own link, from the current directory", () => {
    const dir = mkdtempSync(join(tmpdir(), 'orphanmap-rv10-relative-'));
    mkdirSync(join(dir, 'real'));
    symlinkSync('real', join(dir, 'mine'));
    const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
    const analyze = run(['analyze', TRACE, '--format', 'markdown', '--out', 'mine/r.md']);
    expect(analyze.status, analyze.stderr).toBe(0);
    expect(readFileSync(join(dir, 'real', 'r.md'), 'utf8')).toMatch(/^# orphanmap report/);
    const report = run(['report', TRACE, '--out', 'mine/evidence']);
    expect(report.status, report.stderr).toBe(0);
    expect(readdirSync(join(dir, 'real', 'evidence'))).toContain('report.md');
  });

  it("a loop of root's links: refused after 40 of them, as the kernel's ELOOP, not walked forever", () => {
    const dir = mkdtempSync(join(tmpdir(), 'orphanmap-rv10-loop-'));
    symlinkSync('b', join(dir, 'a'));
    symlinkSync('a', join(dir, 'b'));
    const out = join(dir, 'a', 'r.json');
    const result = runCli(['analyze', TRACE, '--format', 'json', '--out', out]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^orphanmap: .+: error: cannot write the report: .*too many symbolic links/);
    expect(readdirSync(dir).sort()).toEqual(['a', 'b']);
  });

  it('/dev/stdout into a pipe (root\'s link to /proc/self/fd/1, whose text is "pipe:[N]"): the report goes down the pipe', () => {
    const run = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" analyze "${TRACE}" --format json --out /dev/stdout | cat`], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toHaveProperty('findings');
  });
});
