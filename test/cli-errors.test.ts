// Errors reach the user in one shape (issue #12): `orphanmap: [place: ]error:
// message`, exit 2 for usage, input, output and capture failures, each error
// with a stable code; ORPHANMAP_DEBUG=1 adds the stack. A file that cannot be
// read for want of permission says so (not "no such file"). The shared
// options (--pid, --duration) follow one rule in every command, and the
// version is package.json's.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureScriptArgs } from '../src/capture/supervise.js';
import { parsePid, parseSeconds } from '../src/commands/options.js';
import { CaptureError, InputError, InternalError, NotATraceError, type OrphanmapError, OutputError, UsageError } from '../src/errors.js';
import { CLI, REPO, requireTool, runCli } from './support/tools.js';

const LEAKY = join(REPO, 'traces', 'f-o-ttt-T-y', 'trace.txt');
const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-errors-'));
chmodSync(scratch, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('error classes', () => {
  it('each has a stable code and an exit status', () => {
    const cases: [OrphanmapError, string, number][] = [
      [new UsageError('u'), 'usage', 2],
      [new InputError('i', 'f'), 'input', 2],
      [new NotATraceError('x', 'do y', 'f'), 'input', 2],
      [new OutputError('o', 'f'), 'output', 2],
      [new CaptureError('c'), 'capture', 2],
      [new InternalError('bug'), 'internal', 1],
    ];
    for (const [error, code, exit] of cases) expect([error.name, error.code, error.exitCode]).toEqual([error.name, code, exit]);
  });

  it('an error says where: file and line, file, or nothing', () => {
    expect(new UsageError('bad', 'trace.txt', 120).format()).toBe('trace.txt:120: error: bad');
    expect(new InputError('no such file', 'trace.txt').format()).toBe('trace.txt: error: no such file');
    expect(new CaptureError('tracer died').format()).toBe('error: tracer died');
  });
});

describe('messages', () => {
  it('one line, without a stack; ORPHANMAP_DEBUG=1 adds the stack and the code', () => {
    const missing = join(scratch, 'nope.txt');
    const plain = runCli(['analyze', missing]);
    expect(plain.status).toBe(2);
    expect(plain.stderr).toBe(`orphanmap: ${missing}: error: no such file\n`);
    const debug = runCli(['analyze', missing], undefined, { ORPHANMAP_DEBUG: '1' });
    expect(debug.status).toBe(2);
    const lines = debug.stderr.split('\n');
    expect(lines[0]).toBe(`orphanmap: ${missing}: error: no such file`);
    expect(lines[1]).toBe('InputError: no such file');
    expect(debug.stderr).toMatch(/\n {4}at .*ingest\/analyze\.js:\d+/);
    // The system error it came from, with its own stack.
    expect(debug.stderr).toMatch(/caused by: Error: ENOENT: no such file or directory, stat/);
    expect(debug.stderr).toMatch(/\[input\]/);
  });

  // Review 20, R20-5: Commander writes these itself, quoting the argument: a file another user planted for root's
  // `orphanmap analyze *.txt` to pick up, named to clear the screen and set the terminal's title.
  it.each([
    ['an unknown option', ['analyze', '-\u001b]0;PWNED\u0007\u001b[2Jx.txt'], "error: unknown option '-\\x1b]0;PWNED\\x07\\x1b[2Jx.txt'\n"],
    ['an unknown command', ['\u001b[2Jfoo'], "error: unknown command '\\x1b[2Jfoo'\n"],
  ])("Commander's own message for %s quotes it escaped, lines kept (exit 2)", (_what, args, first) => {
    const result = runCli(args);
    expect(result.status).toBe(2);
    expect(result.stderr.startsWith(first), result.stderr).toBe(true);
    expect(result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
  });

  it('exit 3 for findings and its report are as before', () => {
    const result = runCli(['analyze', LEAKY, '--fail-on', 'error']);
    expect(result.status).toBe(3);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^orphanmap: 8 mappings outlived their files/);
  });
});

describe('permission denied is not "no such file"', () => {
  requireTool('setpriv');
  const asNobody = (args: string[]) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, ...args], { encoding: 'utf8' });

  it('a file nobody else may read', () => {
    const path = join(scratch, 'secret.txt');
    writeFileSync(path, readFileSync(LEAKY));
    chmodSync(path, 0o600);
    const result = asNobody(['analyze', path]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`orphanmap: ${path}: error: permission denied\n`);
  });

  it('a file in a directory nobody else may enter', () => {
    const dir = join(scratch, 'closed');
    mkdirSync(dir, { mode: 0o700 });
    const path = join(dir, 'trace.txt');
    writeFileSync(path, readFileSync(LEAKY));
    const result = asNobody(['analyze', path]);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`orphanmap: ${path}: error: permission denied\n`);
  });
});

describe('the shared options', () => {
  it("--version is package.json's version", () => {
    const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    const result = runCli(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${version}\n`);
  });

  it('--pid: decimal digits from 1 to 4194304 (PID_MAX_LIMIT), in analyze, capture, live and scan alike', () => {
    expect(parsePid('4194304')).toBe(4194304);
    for (const bad of ['0', '-1', '0x10', '1e3', '4194305', ' 7', '7.0', '']) {
      expect(() => parsePid(bad), bad).toThrow(UsageError);
    }
    const message = 'error: --pid needs a process id (a whole number from 1 to 4194304), not "1e3"\n';
    const analyze = runCli(['analyze', LEAKY, '--pid', '1e3']);
    expect([analyze.status, analyze.stderr]).toEqual([2, `orphanmap: ${message}`]);
    const capture = runCli(['capture', '--pid', '1e3', '--out', join(scratch, 'never')]);
    expect([capture.status, capture.stderr]).toEqual([2, `orphanmap: ${message}`]);
    const live = runCli(['live', '--pid', '1e3', '--save', join(scratch, 'never-live')]);
    expect([live.status, live.stderr]).toEqual([2, `orphanmap: ${message}`]);
    const scan = runCli(['scan', '--pid', '1', '--pid', '1e3']);
    expect([scan.status, scan.stderr]).toEqual([2, `orphanmap: ${message}`]);
  });

  it('--pid and -- CMD: capture and live ask for exactly one, in the same words', () => {
    for (const args of [
      ['capture', '--out', join(scratch, 'b')],
      ['live', '--save', join(scratch, 'b')],
    ]) {
      const both = runCli([...args, '--pid', '1', '--', 'true']);
      expect([both.status, both.stderr], args[0]).toEqual([2, 'orphanmap: error: give --pid N or -- CMD..., not both\n']);
    }
    const neither = runCli(['live', '--save', join(scratch, 'n')]);
    expect([neither.status, neither.stderr]).toEqual([2, 'orphanmap: error: live needs --pid N or -- CMD ARGS...\n']);
  });

  it('--duration: a number of seconds from 0.001 to 2147483, written as JavaScript reads numbers', () => {
    expect(parseSeconds('30')).toBe(30);
    expect(parseSeconds('0.5')).toBe(0.5);
    expect(parseSeconds('1e3')).toBe(1000);
    for (const bad of ['0', '-5', 'Infinity', 'NaN', '', ' ', '1e-4', '2147484', 'ten']) {
      expect(() => parseSeconds(bad), bad).toThrow(UsageError);
    }
    // The scripts get plain decimals, in milliseconds at most.
    expect(captureScriptArgs({ backend: 'strace', pid: 1, outDir: '/x', durationSeconds: parseSeconds('1e3') }, 9)).toContain('1000');
    expect(captureScriptArgs({ backend: 'strace', pid: 1, outDir: '/x', durationSeconds: 0.0015 }, 9)).toContain('0.002');
  });

  it.each(['Infinity', '1e-4', '3000000', '0', 'ten', ''])('--duration "%s" is refused by capture and live with the same message (exit 2), before anything runs', (value) => {
    const message = `orphanmap: error: --duration needs a number of seconds from 0.001 to 2147483 (24.8 days), not "${value}"\n`;
    for (const command of [
      ['capture', '--out', join(scratch, `c-${value}`)],
      ['live', '--save', join(scratch, `l-${value}`)],
    ]) {
      const result = runCli([...command, '--duration', value, '--', 'true']);
      expect([result.status, result.stderr], command[0]).toEqual([2, message]);
    }
  });
});
