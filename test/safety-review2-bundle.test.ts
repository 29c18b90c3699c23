// Review 2, findings 4(a) and 6: a bundle is analysed as root, often where
// another user can write. Its text never reaches the terminal raw, and its
// files are read from the handle that was checked: a user who swaps a file
// for a link to a root-only file, while orphanmap reads, gets nothing of it.
// The attacker is a real process of an unprivileged user (nobody).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { bundleTraceSource, loadBundle } from '../src/ingest/bundle.js';
import { REPO, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const REAL = join(REPO, 'traces', 'launched-late-snapshot', 'bundle');
const NOBODY = 65534;
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

function bundleCopy(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-rv2-')), 'bundle');
  cpSync(REAL, dir, { recursive: true });
  return dir;
}

describe('4(a): a message quoting a bundle is escaped', () => {
  it('meta.json that is not JSON, starting with an OSC title and a colour: quoted escaped', () => {
    const dir = bundleCopy();
    writeFileSync(join(dir, 'meta.json'), '\u001b]0;PWNED\u0007\u001b[31mRED');
    for (const args of [
      ['analyze', dir],
      ['diff', dir, REAL],
      ['report', dir, '--out', join(dir, '..', 'evidence')],
    ]) {
      const result = runCli(args);
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).not.toMatch(RAW_CONTROL);
      expect(result.stderr).toContain('\\x1b]0;PWNED\\x07\\x1b[31mRED');
    }
  });

  it('a traceFiles name holding escapes, in "bundle file … is missing": escaped, in the path and in the text', () => {
    const dir = bundleCopy();
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ traceFiles: ['\u001b[31mX\u001b]0;T\u0007\nforged: line'] }));
    const result = runCli(['analyze', dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).not.toMatch(RAW_CONTROL);
    expect(result.stderr).toContain('bundle file \\x1b[31mX\\x1b]0;T\\x07\\nforged: line is missing');
    // One line: a newline in a name cannot forge a second message.
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('ORPHANMAP_DEBUG=1: the stack and its causes are escaped too', () => {
    const dir = bundleCopy();
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ traceFiles: ['\u001b]0;T\u0007'] }));
    const result = runCli(['analyze', dir], undefined, { ORPHANMAP_DEBUG: '1' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/\n {4}at /);
    expect(result.stderr).not.toMatch(RAW_CONTROL);
  });
});

describe('6: bundle files are read from the handle that was checked', () => {
  let attacker: ChildProcess | null = null;
  afterEach(() => {
    attacker?.kill('SIGKILL');
    attacker = null;
  });

  /** A bundle in a directory nobody owns, and a root-only secret outside it. */
  function attackable(): { dir: string; secret: string } {
    const top = mkdtempSync(join(tmpdir(), 'orphanmap-rv2-race-'));
    chmodSync(top, 0o755);
    const dir = join(top, 'bundle');
    cpSync(REAL, dir, { recursive: true });
    chownSync(dir, NOBODY, NOBODY);
    const vault = mkdtempSync(join(tmpdir(), 'orphanmap-rv2-vault-'));
    const secret = join(vault, 'secret');
    writeFileSync(secret, 'SECRET-TOKEN {"traceFiles":["x"]}\n1 openat(AT_FDCWD, "/SECRET-PATH", O_RDONLY) = 3\n', { mode: 0o600 });
    return { dir, secret };
  }

  /** nobody flips NAME between its own regular file and a link to `secret`, until killed; resolves once it has flipped. */
  async function flip(dir: string, name: string, secret: string): Promise<void> {
    const content = readFileSync(join(dir, name));
    const ready = join(dir, '.flipping');
    const script = `
import os, sys
d, name, target, ready = sys.argv[1:5]
content = sys.stdin.buffer.read()
reg, lnk, path = os.path.join(d, '.reg'), os.path.join(d, '.lnk'), os.path.join(d, name)
first = True
# Each state is held for the same work (a file written, a link made), so that
# a reader meets either about as often, however busy the machine.
spare = os.path.join(d, '.spare')
while True:
    with open(reg, 'wb') as f: f.write(content)
    os.rename(reg, path)
    os.symlink(target, lnk)
    with open(spare, 'wb') as f: f.write(content)
    os.rename(lnk, path)
    os.symlink(target, spare + '.lnk')
    os.unlink(spare + '.lnk')
    if first:
        open(ready, 'w').close()
        first = False
`;
    attacker = spawn('python3', ['-c', script, dir, name, secret, ready], { uid: NOBODY, gid: NOBODY, stdio: ['pipe', 'ignore', 'inherit'] });
    attacker.stdin!.end(content);
    await waitFor(`${name} flipped by nobody`, () => existsSync(ready), 10_000, 10);
  }

  it('meta.json flipped to a link to a root-only file: never parsed, never quoted (2,000 loads)', async () => {
    const { dir, secret } = attackable();
    await flip(dir, 'meta.json', secret);
    const outcomes = new Map<string, number>();
    for (let n = 0; n < 2000; n++) {
      const outcome = await loadBundle(dir).then(
        () => 'loaded',
        (error: Error) => error.message,
      );
      expect(outcome).not.toContain('SECRET');
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // Both sides of the flip were met: a link is refused by name, the file is read.
    expect([...outcomes.keys()].sort()).toEqual(['bundle file meta.json is a symbolic link: a bundle holds its own files, so it is not read', 'loaded']);
  }, 60_000);

  it('trace.txt flipped to a link to a root-only file: the report is of the bundle trace or there is none (100 analyses)', async () => {
    const { dir, secret } = attackable();
    const genuine = createHash('sha256')
      .update(readFileSync(join(dir, 'trace.txt')))
      .digest('hex');
    await flip(dir, 'trace.txt', secret);
    let reports = 0;
    let refusals = 0;
    // 100 analyses at least, and on until both sides of the flip were met: a
    // busy machine can deschedule the flipper on one side for a while (a CI
    // run once met the link 100 times in a row).
    const deadline = Date.now() + 60_000;
    for (let n = 0; n < 100 || ((reports === 0 || refusals === 0) && Date.now() < deadline); n++) {
      try {
        const analysis = await analyze([dir], { readThread: 'never' });
        expect(analysis.inputs.map((input) => input.sha256)).toEqual([genuine]);
        expect(JSON.stringify(analysis.unparsedSamples)).not.toContain('SECRET');
        reports++;
      } catch (error) {
        expect((error as Error).message).toMatch(/trace\.txt is a symbolic link/);
        refusals++;
      }
    }
    expect(reports).toBeGreaterThan(0);
    expect(refusals).toBeGreaterThan(0);
  }, 120_000);

  it('a trace swapped for a link after the bundle was loaded: the lines and their evidence are of the file checked', async () => {
    const { dir, secret } = attackable();
    const path = join(dir, 'trace.txt');
    const genuine = readFileSync(path, 'utf8');
    const bundle = await loadBundle(dir);
    symlinkSync(secret, join(dir, '.lnk'));
    renameSync(join(dir, '.lnk'), path);
    for (const readThread of ['never', 'always'] as const) {
      const source = await bundleTraceSource(bundle, 0, readThread);
      expect(source.name).toBe(path);
      const lines: string[] = [];
      await source.each((text) => void lines.push(text));
      expect(`${lines.join('\n')}\n`).toBe(genuine);
      expect(readFileSync(source.reread!, 'utf8')).toBe(genuine);
    }
  });

  it('FIFOs and devices are refused at once, never waited on or read without end', async () => {
    for (const [name, make] of [
      ['meta.json', (path: string) => spawnSyncOk('mkfifo', [path])],
      ['trace.txt', (path: string) => spawnSyncOk('mkfifo', [path])],
      ['maps-start.txt', (path: string) => spawnSyncOk('mknod', [path, 'c', '1', '5'])], // /dev/zero's numbers
    ] as const) {
      const dir = bundleCopy();
      spawnSyncOk('rm', [join(dir, name)]);
      make(join(dir, name));
      const result = runCli(['analyze', dir]);
      expect(result.status, name).toBe(2);
      expect(result.stderr).toContain(`bundle file ${name} is not a regular file`);
    }
  });

  it('a bundle refused for a snapshot leaves no trace descriptor open (found by the final review)', async () => {
    const dir = bundleCopy();
    spawnSyncOk('rm', [join(dir, 'maps-start.txt')]);
    spawnSyncOk('mkfifo', [join(dir, 'maps-start.txt')]);
    const open = () => readdirSync('/proc/self/fd').length;
    const before = open();
    for (let i = 0; i < 20; i++) await expect(loadBundle(dir)).rejects.toThrow(/maps-start\.txt is not a regular file/);
    expect(open()).toBe(before);
  });
});

function spawnSyncOk(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
}
