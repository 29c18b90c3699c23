// Review 5, item 1: the files of a strace -ff directory were opened by path,
// following links and waiting: a member linked to a root-only file had its
// paths and its other lines (`password=hunter2`) quoted in root's reports, a
// FIFO member held `analyze` forever. Now a file found by listing a directory
// is held to a bundle's rules: opened without following a link or waiting,
// read only if it is a regular file, and read from that descriptor (the
// second thread too), so that a link put at its name afterwards changes
// nothing read. A path the user names is opened as named (a link they made is
// followed), once, and read from that descriptor too. Real strace -ff files
// (traces/ff-ttt); the hostile members are made here.
import { spawnSync } from 'node:child_process';
import { chownSync, cpSync, existsSync, lchownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { NOBODY } from './support/nobody.js';
import { REPO, runCli } from './support/tools.js';

const FF = join(REPO, 'traces', 'ff-ttt');
const DIST = join(REPO, 'dist');
const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-rv5-ff-'));

type InputsModule = typeof import('../src/ingest/inputs.js');
type LinesModule = typeof import('../src/ingest/lines.js');
type AnalyzeModule = typeof import('../src/ingest/analyze.js');
type ReportModule = typeof import('../src/report/report.js');
type JsonModule = typeof import('../src/report/json.js');
// The second reading thread runs compiled code: these use dist/, as test/read-thread.test.ts does.
let inputsModule: InputsModule;
let linesModule: LinesModule;
let analyzeModule: AnalyzeModule;
let reportModule: ReportModule;
let jsonModule: JsonModule;

beforeAll(async () => {
  inputsModule = (await import(join(DIST, 'ingest/inputs.js'))) as InputsModule;
  linesModule = (await import(join(DIST, 'ingest/lines.js'))) as LinesModule;
  analyzeModule = (await import(join(DIST, 'ingest/analyze.js'))) as AnalyzeModule;
  reportModule = (await import(join(DIST, 'report/report.js'))) as ReportModule;
  jsonModule = (await import(join(DIST, 'report/json.js'))) as JsonModule;
});

/** A copy of the real -ff set's trace.* files (or of `names` only), in a new directory. */
function ffCopy(names = readdirSync(FF).filter((name) => name.startsWith('trace.'))): string {
  const dir = mkdtempSync(join(scratch, 'set-'));
  for (const name of names) cpSync(join(FF, name), join(dir, name));
  return dir;
}

/** A root-only trace of thread 11204 naming a secret path, with a line that is no trace line: what the review's link led to. */
function secretTrace(): string {
  const vault = mkdtempSync(join(scratch, 'vault-'));
  const secret = join(vault, 'trace.11204');
  const text = readFileSync(join(FF, 'trace.11204'), 'utf8').replaceAll('/tmp/orphanmap-repro/ff-ttt', '/root/TOPSECRET');
  writeFileSync(secret, `${text}password=hunter2\n`, { mode: 0o600 });
  return secret;
}

const LEAKED = /TOPSECRET|hunter2/;

function fifoElsewhere(): string {
  const fifo = join(mkdtempSync(join(scratch, 'fifo-')), 'f');
  ok('mkfifo', [fifo]);
  return fifo;
}

function ok(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
}

describe('a file found by listing a strace -ff directory', () => {
  it("a link to a root-only trace (the review's): refused, naming it; nothing of it in any output or report file", () => {
    const dir = ffCopy();
    const member = join(dir, 'trace.11204');
    ok('rm', [member]);
    symlinkSync(secretTrace(), member);
    const refusal = `orphanmap: ${member}: error: is a symbolic link, found by listing the strace -ff directory ${dir}: not followed.`;
    for (const format of ['text', 'json', 'markdown']) {
      const run = runCli(['analyze', dir, '--format', format]);
      expect(run.status, run.stderr).toBe(2);
      expect(run.stderr.startsWith(refusal), run.stderr).toBe(true);
      expect(run.stderr).toContain('To read what it links to, name the link itself');
      expect(`${run.stdout}${run.stderr}`).not.toMatch(LEAKED);
    }
    const out = join(scratch, 'evidence-link');
    const report = runCli(['report', dir, '--out', out]);
    expect(report.status, report.stderr).toBe(2);
    expect(report.stderr.startsWith(refusal), report.stderr).toBe(true);
    for (const name of existsSync(out) ? readdirSync(out) : []) expect(readFileSync(join(out, name), 'utf8')).not.toMatch(LEAKED);
  });

  it.each([
    ['a FIFO (it held analyze forever)', (path: string) => ok('mkfifo', [path]), 'is a FIFO'],
    ['a character device (/dev/zero)', (path: string) => ok('mknod', [path, 'c', '1', '5']), 'is a character device'],
    ['a link to a FIFO elsewhere', (path: string) => symlinkSync(fifoElsewhere(), path), 'is a symbolic link'],
    ['a directory', (path: string) => mkdirSync(path), 'is a directory'],
  ])('%s: refused at once, naming it and saying why', (_, make, what) => {
    const dir = ffCopy();
    const member = join(dir, 'trace.99');
    make(member);
    const run = runCli(['analyze', dir]);
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toContain(`orphanmap: ${member}: error: ${what}, found by listing the strace -ff directory ${dir}: not `);
  });

  it('is read from the descriptor opened when it was checked: a link put at its name afterwards changes nothing read', async () => {
    const secret = secretTrace();
    // Two members: merged by run.ts through fileLineCursor; one: a stream, read in one thread or two.
    for (const names of [['trace.11203', 'trace.11204'], ['trace.11204']]) {
      for (const readThread of ['never', 'always'] as const) {
        const dir = ffCopy(names);
        const member = join(dir, 'trace.11204');
        const genuine = readFileSync(member, 'utf8');
        const inputs = await inputsModule.resolveInputs([dir], readThread);
        symlinkSync(secret, join(dir, '.swap'));
        renameSync(join(dir, '.swap'), member);
        const input = inputs[0]!;
        const lines: string[] = [];
        if (input.type === 'stream') {
          expect(input.source.name).toBe(member);
          await input.source.each((text: string) => void lines.push(text));
        } else {
          expect(input.type).toBe('ff-set');
          for (const file of input.type === 'ff-set' ? input.files : []) {
            const cursor = linesModule.fileLineCursor(file.path);
            for (let line = await cursor.next(); line !== null; line = await cursor.next()) if (file.path === member) lines.push(line as string);
          }
        }
        expect(`${lines.join('\n')}\n`).toBe(genuine);
      }
    }
  });

  it('one member read by two threads gives the report one thread gives', async () => {
    const dir = ffCopy(['trace.11163']);
    const reports: string[] = [];
    for (const readThread of ['never', 'always'] as const) {
      const analysis = await analyzeModule.analyze([dir], { readThread });
      reports.push(jsonModule.safeJson(reportModule.buildReport(analysis)));
    }
    expect(reports[1]).toBe(reports[0]);
    expect(JSON.parse(reports[0]!).summary.lines).toBe(readFileSync(join(dir, 'trace.11163'), 'utf8').trimEnd().split('\n').length);
  });
});

describe('a path the user names', () => {
  it('a link they made, to a file of a strace -ff set, is followed: it is what they asked for', () => {
    const links = mkdtempSync(join(scratch, 'links-'));
    symlinkSync(join(FF, 'trace.11162'), join(links, 'mine.11162'));
    symlinkSync(FF, join(links, 'set'));
    const byLink = runCli(['analyze', join(links, 'mine.11162'), '--format', 'json']);
    const direct = runCli(['analyze', join(FF, 'trace.11162'), '--format', 'json']);
    expect(byLink.status, byLink.stderr).toBe(0);
    expect(JSON.parse(byLink.stdout).summary).toEqual(JSON.parse(direct.stdout).summary);
    // The directory named through a link: its files are its own, and read.
    const set = runCli(['analyze', join(links, 'set'), '--format', 'json']);
    expect(set.status, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout).summary).toEqual(JSON.parse(runCli(['analyze', FF, '--format', 'json']).stdout).summary);
  });

  it("another user's link, or one a shell glob met in their directory, is refused, naming it and its owner", () => {
    const theirs = mkdtempSync(join(scratch, 'theirs-'));
    cpSync(join(FF, 'trace.11162'), join(theirs, 'trace.11162'));
    const planted = join(theirs, 'trace.11204');
    symlinkSync(secretTrace(), planted);
    lchownSync(planted, NOBODY, NOBODY);
    // As `orphanmap analyze DIR/trace.*` names them.
    for (const args of [[planted], [join(theirs, 'trace.11162'), planted]]) {
      const run = runCli(['analyze', ...args]);
      expect(run.status, run.stderr).toBe(2);
      expect(run.stderr).toContain(`orphanmap: ${planted}: error: is a symbolic link of another user (uid ${NOBODY}): not followed.`);
      expect(`${run.stdout}${run.stderr}`).not.toMatch(LEAKED);
    }
  });

  it("another user's FIFO is refused at once, naming it and its owner", () => {
    const fifo = join(mkdtempSync(join(scratch, 'fifo-theirs-')), 'trace.fifo');
    ok('mkfifo', [fifo]);
    chownSync(fifo, NOBODY, NOBODY);
    const run = runCli(['analyze', fifo]);
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toContain(`orphanmap: ${fifo}: error: is a FIFO of another user (uid ${NOBODY}): not read.`);
  });

  it('is read from the descriptor it was opened as: a link put at its name afterwards changes nothing read', async () => {
    const secret = secretTrace();
    for (const readThread of ['never', 'always'] as const) {
      const dir = mkdtempSync(join(scratch, 'named-'));
      const path = join(dir, 'trace.txt');
      cpSync(join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt'), path);
      const genuine = readFileSync(path, 'utf8');
      const [input] = await inputsModule.resolveInputs([path], readThread);
      symlinkSync(secret, join(dir, '.swap'));
      renameSync(join(dir, '.swap'), path);
      if (input?.type !== 'stream') throw new Error('a named trace file is a stream');
      const lines: string[] = [];
      await input.source.each((text: string) => void lines.push(text));
      expect(`${lines.join('\n')}\n`).toBe(genuine);
      expect(readFileSync(input.source.reread!, 'utf8')).toBe(genuine);
    }
  });

  it("its findings' evidence, read again for a report, is of the file analysed, whatever is put at its name since", async () => {
    const secret = secretTrace();
    const dir = mkdtempSync(join(scratch, 'evidence-'));
    const path = join(dir, 'trace.txt');
    cpSync(join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt'), path);
    const genuine = readFileSync(path, 'utf8').split('\n');
    const analysis = await analyzeModule.analyze([path]);
    symlinkSync(secret, join(dir, '.swap'));
    renameSync(join(dir, '.swap'), path);
    // Before, the evidence was read again by the path, and refused once it led elsewhere.
    const findings = analysis.engine.findings();
    expect(findings.length).toBeGreaterThan(0);
    for (const finding of findings) {
      for (const line of finding.evidence) {
        expect(line.file).toBe(path);
        expect(line.text).toBe(genuine[line.line - 1]);
      }
    }
  });

  it('a FIFO they named is read as the stream it is', () => {
    const fifo = join(mkdtempSync(join(scratch, 'fifo-named-')), 'trace.fifo');
    ok('mkfifo', [fifo]);
    const writer = spawnSync('sh', ['-c', `cat "$1" > "$2" & node "$3" analyze "$2" --format json; wait`, 'sh', join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt'), fifo, join(DIST, 'cli.js')], {
      encoding: 'utf8',
      timeout: 100_000,
    });
    expect(writer.status, writer.stderr).toBe(0);
    expect(JSON.parse(writer.stdout).summary.findings['unlinked-while-mapped']).toBe(9);
  });
});
