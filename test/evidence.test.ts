// `orphanmap report <input> --out DIR` on the bundled leaky trace: every file
// of the evidence directory, sha256sum -c on it, the reports identical to
// analyze's, --redact in every file, and --out refused the way capture
// refuses a bundle directory.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { CLI, REPO } from './tools.js';
import { requireBuiltCli } from './fixtures/fleet/harness.js';

const LEAKY = 'traces/f-o-ttt-T-y/trace.txt';
const FILES = ['README.txt', 'SHA256SUMS', 'chart.svg', 'environment.json', 'report.jira', 'report.json', 'report.md', 'trace-lines.txt'];

let scratch: string;

function orphanmap(args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function sha256sumCheck(dir: string): { status: number; output: string } {
  const result = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' });
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

/** The "how to reproduce" command differs (report vs analyze); everything else must not. */
function withoutCommand(text: string, command: string): string {
  expect(text).toContain(command);
  return text.split(command).join('COMMAND');
}

beforeAll(() => {
  requireBuiltCli();
  scratch = mkdtempSync(join(tmpdir(), 'orphanmap-evidence-'));
});

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe('orphanmap report on the bundled leaky trace', () => {
  let dir: string;
  let result: ReturnType<typeof orphanmap>;

  beforeAll(() => {
    dir = join(scratch, 'leaky');
    result = orphanmap(['report', LEAKY, '--out', dir]);
  });

  it('writes every file into a new private directory and prints its path', () => {
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${dir}\n`);
    expect(result.stderr).toContain('orphanmap: 8 mappings outlived their files in process 11020');
    expect(readdirSync(dir).sort()).toEqual(FILES);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('passes sha256sum -c SHA256SUMS, which lists every other file', () => {
    const check = sha256sumCheck(dir);
    expect(check.status, check.output).toBe(0);
    const listed = readFileSync(join(dir, 'SHA256SUMS'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split('  ')[1]);
    expect(listed).toEqual(FILES.filter((name) => name !== 'SHA256SUMS'));
    const copy = join(scratch, 'leaky-tampered');
    mkdirSync(copy);
    for (const name of FILES) writeFileSync(join(copy, name), readFileSync(join(dir, name)));
    writeFileSync(join(copy, 'report.md'), `${readFileSync(join(copy, 'report.md'), 'utf8')}tampered\n`);
    expect(sha256sumCheck(copy).status).not.toBe(0);
  });

  it('holds the reports analyze writes, unchanged but for the command under "how to reproduce"', () => {
    const command = `orphanmap report ${LEAKY} --out ${dir}`;
    for (const [file, format] of [
      ['report.md', 'markdown'],
      ['report.jira', 'jira'],
    ] as const) {
      const analyzed = orphanmap(['analyze', LEAKY, '--format', format]);
      expect(analyzed.status, analyzed.stderr).toBe(0);
      expect(withoutCommand(readFileSync(join(dir, file), 'utf8'), command)).toBe(withoutCommand(analyzed.stdout, `orphanmap analyze ${LEAKY} --format ${format}`));
    }
    const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as unknown;
    expect(json).toEqual(JSON.parse(orphanmap(['analyze', LEAKY, '--format', 'json']).stdout));
  });

  it("has the trace lines of each finding's file, and not the whole trace", () => {
    const text = readFileSync(join(dir, 'trace-lines.txt'), 'utf8');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { findings: Finding[] };
    for (const finding of report.findings) {
      expect(text).toMatch(new RegExp(`^## .*\\b${finding.id} ${finding.kind}`, 'm'));
      for (const line of finding.evidence) expect(text).toContain(`${line.file}:${line.line}  ${line.text}\n`);
    }
    // 8 index files (each a resize and an unlink finding) and the JVM's hsperfdata file.
    expect(text.match(/^## F\d+ .*, pid 11020, mapping at /gm)).toHaveLength(9);
    const shown = new Set(
      text
        .split('\n')
        .filter((line) => line.startsWith(`${LEAKY}:`))
        .map((line) => line.split('  ')[0]),
    );
    const traceLines = readFileSync(join(REPO, LEAKY), 'utf8').trimEnd().split('\n').length;
    expect(shown.size).toBeGreaterThan(9 * 5);
    expect(shown.size).toBeLessThan(traceLines / 2);
    expect(text).toContain('^^^^^^^^^^^^^^ orphaned mapping');
  });

  it('says what it knows of the environment: no capture for a plain trace, and how the evidence was made', () => {
    const environment = JSON.parse(readFileSync(join(dir, 'environment.json'), 'utf8')) as {
      capture: unknown;
      analysis: { orphanmap: string; node: string; command: string; inputs: { path: string; sha256: string }[] };
    };
    expect(environment.capture).toBeNull();
    expect(environment.analysis.orphanmap).toBe(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
    expect(environment.analysis.node).toBe(process.version);
    expect(environment.analysis.inputs).toEqual([{ path: LEAKY, format: 'strace', sha256: 'da02b59a91fff5885fad0f09905b0e605a2f2379b64f6f35e8b5154b46a3817c' }]);
    expect(existsSync(join(dir, 'maps-end.txt'))).toBe(false);
    expect(readFileSync(join(dir, 'README.txt'), 'utf8')).toContain('sha256sum -c SHA256SUMS');
  });

  it("draws the chart over the trace's time with the unlinks", () => {
    const svg = readFileSync(join(dir, 'chart.svg'), 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="960" height="456"/);
    expect(svg).toContain('peak 9 (80.0 MiB)');
    expect(svg).toContain('ms since the first traced call (2026-11-25 ');
    expect(svg.match(/<title>F\d+<\/title>/g)).toHaveLength(9);
  });
});

describe('orphanmap report --redact', () => {
  it('redacts every file, and the sums still check', () => {
    const dir = join(scratch, 'leaky-redacted');
    const result = orphanmap(['report', LEAKY, '--out', dir, '--redact']);
    expect(result.status, result.stderr).toBe(0);
    expect(sha256sumCheck(dir).status).toBe(0);
    for (const name of readdirSync(dir)) {
      const text = readFileSync(join(dir, name), 'utf8');
      for (const secret of ['orphanmap-repro', 'topic-0', 'f-o-ttt-T-y', 'leaky-redacted', REPO]) {
        expect(text.includes(secret), `${name} holds "${secret}"`).toBe(false);
      }
    }
    // Redaction keeps what a reader needs: suffixes, offsets, addresses.
    expect(readFileSync(join(dir, 'trace-lines.txt'), 'utf8')).toMatch(/\/tmp\/[0-9a-f]{8}\/[0-9a-f]{8}\/[0-9a-f]{8}-1\/00000000000000000000\.index\.deleted/);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('0x7feb45600000');
    expect(readFileSync(join(dir, 'README.txt'), 'utf8')).toContain('Redacted (--redact)');
  });
});

describe('orphanmap report --out: a new directory or an empty private one, never a link', () => {
  function refused(out: string, message: RegExp, extra: string[] = []): void {
    const result = orphanmap(['report', LEAKY, '--out', out, ...extra]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  }

  it('refuses a directory with files in it, and leaves them alone', () => {
    const out = join(scratch, 'full');
    mkdirSync(out, { mode: 0o700 });
    writeFileSync(join(out, 'notes.txt'), 'mine\n');
    refused(out, /is not empty \(notes\.txt\); give a new path/);
    expect(readdirSync(out)).toEqual(['notes.txt']);
  });

  it('refuses a symbolic link, even to an empty directory of this user, and writes nothing through it', () => {
    const target = join(scratch, 'link-target');
    mkdirSync(target, { mode: 0o700 });
    const link = join(scratch, 'link');
    symlinkSync(target, link);
    refused(link, /is a symbolic link/);
    refused(`${link}/`, /is a symbolic link/);
    expect(readdirSync(target)).toEqual([]);
    const dangling = join(scratch, 'dangling');
    symlinkSync(join(scratch, 'nowhere'), dangling);
    refused(dangling, /is a symbolic link/);
    expect(existsSync(join(scratch, 'nowhere'))).toBe(false);
  });

  it('refuses a file, a missing parent, a directory others may write to, and no --out', () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'x');
    refused(file, /exists and is not a directory/);
    refused(join(scratch, 'missing', 'evidence'), /it must exist: report creates only the last component/);
    const shared = join(scratch, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    refused(shared, /others may write to it \(mode 777\)/);
    const result = orphanmap(['report', LEAKY]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('report needs --out DIR');
  });

  it('accepts an empty directory this user owns that no one else can write to', () => {
    const out = join(scratch, 'empty-mine');
    mkdirSync(out, { mode: 0o755 });
    const result = orphanmap(['report', LEAKY, '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(FILES);
  });

  it('refuses stdin, and removes the directory it made when the input cannot be read', () => {
    const out = join(scratch, 'bad-input');
    refused(out, /not - for stdin/, ['-']);
    const result = orphanmap(['report', join(scratch, 'no-such-trace.txt'), '--out', out]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('no such file');
    expect(existsSync(out)).toBe(false);
  });
});
