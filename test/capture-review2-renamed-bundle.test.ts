// Review 2, finding 4(b) and 4(c): text that others choose reaches orphanmap's
// output. Whoever owns --out's parent (nobody here, a real unprivileged user)
// can rename the bundle during a capture that runs as root with real strace,
// to any name (a newline, escape sequences), and put another directory at
// the name the capture reports; a target chooses its own comm. orphanmap must
// print none of it raw, and must never take another directory for its bundle.
// Also: a live view whose bundle is renamed under it ends with a clear
// message, not "internal error: ENOENT".
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killStillRunning, procStatus } from './support/proc.js';
import { CLI, requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';
import { shellQuote, TmuxSession } from './tmux.js';
import { asNobody, NOBODY } from './support/nobody.js';

const PYTHON = '/usr/bin/python3';

let work: string;
const children: ChildProcess[] = [];
let term: TmuxSession | null = null;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review2-renamed-bundle.test.ts must run as root (it traces with strace and plays an attacker as nobody)');
  requireTool('strace');
  requireTool('setpriv');
  requireTool('tmux');
  if (!existsSync(PYTHON)) throw new Error(`this test needs ${PYTHON} (apt-get install -y python3)`);
  work = mkdtempSync(join(tmpdir(), 'orphanmap-review2-rename-'));
  chmodSync(work, 0o755);
});
afterEach(() => {
  term?.kill();
  term = null;
  killStillRunning(children);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd ?? work, env: options.env ?? process.env });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return { child, done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr }))) };
}

/** A directory nobody owns: the parent of --out. */
function attackerDir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  chownSync(dir, NOBODY, NOBODY);
  return dir;
}

/** An older bundle of root's in the attacker's directory, whose meta.json says FORGED. */
function otherBundle(dir: string): string {
  const other = join(dir, 'c2');
  mkdirSync(other, { mode: 0o700 });
  writeFileSync(join(other, 'meta.json'), JSON.stringify({ schema: 'orphanmap/bundle@1', backend: 'strace', pid: 1, comm: 'FORGED', traceFiles: ['trace.txt'], complete: true }));
  writeFileSync(join(other, 'trace.txt'), '');
  return other;
}

/** A process to attach to; `comm` is what it names itself (prctl PR_SET_NAME). */
async function startTarget(comm = 'target'): Promise<ChildProcess> {
  const program = `import ctypes, sys, time\nctypes.CDLL(None).prctl(15, sys.argv[1].encode('latin1'), 0, 0, 0)\nprint("ready", flush=True)\ntime.sleep(300)`;
  const child = spawn(PYTHON, ['-c', program, comm], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return child;
}

const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

describe("finding 4(c): the bundle renamed by whoever owns --out's parent", () => {
  it('to "b3\\nc2", next to another bundle c2: orphanmap reads and names its own bundle, one escaped line', async () => {
    const dir = attackerDir('newline');
    otherBundle(dir);
    const target = await startTarget();
    const capture = run(['capture', '--pid', String(target.pid), '--out', join(dir, 'b1'), '--duration', '1'], { cwd: dir });
    await waitFor('the attach (meta.json)', () => existsSync(join(dir, 'b1', 'meta.json')), 20_000);
    asNobody(`cd ${shellQuote(dir)} && mv b1 "$(printf 'b3\\nc2')"`);
    const done = await capture.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toBe(`${dir}/b3\\nc2\n`);
    expect(readdirSync(dir).sort()).toEqual(['b3\nc2', 'c2']);
    expect(procStatus(target.pid!)?.tracerPid).toBe(0);
  }, 30_000);

  it('to a name with escape sequences: printed escaped, on stdout and stderr', async () => {
    const dir = attackerDir('escapes');
    const target = await startTarget();
    const capture = run(['capture', '--pid', String(target.pid), '--out', join(dir, 'b1'), '--duration', '1']);
    await waitFor('the attach (meta.json)', () => existsSync(join(dir, 'b1', 'meta.json')), 20_000);
    asNobody(`cd ${shellQuote(dir)} && mv b1 "$(printf 'b2\\033]0;PWNED\\007')"`);
    const done = await capture.done;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toBe(`${dir}/b2\\x1b]0;PWNED\\x07\n`);
    expect(done.stdout + done.stderr).not.toMatch(RAW_CONTROL);
  }, 30_000);

  it('at the worst instant, right after the script has said where the bundle is, another bundle put there: nothing is read from it', async () => {
    // The rename lands between the script's last look at its bundle and
    // orphanmap's: a stand-in readlink, first on PATH, answers the script's
    // question (where is /proc/PID/fd/9 now?) truthfully, then lets nobody
    // move the bundle away and put c2 in its place before the script goes on.
    const dir = attackerDir('worst-instant');
    otherBundle(dir);
    const bin = join(work, 'worst-instant-bin');
    mkdirSync(bin);
    const trigger = join(work, 'worst-instant-now');
    const real = spawnSync('sh', ['-c', 'command -v readlink'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(
      join(bin, 'readlink'),
      `#!/bin/sh
case "$*" in
  *"/fd/9") if [ -e ${trigger} ]; then
      where=$(${real} "$@") || exit
      setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups sh -c 'mv "$1" "$1.moved" && mv "$2/c2" "$1"' sh "$where" ${dir} || exit
      printf '%s\\n' "$where"
      exit 0
    fi ;;
esac
exec ${real} "$@"
`,
      { mode: 0o755 },
    );
    const target = await startTarget();
    const capture = run(['capture', '--pid', String(target.pid), '--out', join(dir, 'b1'), '--duration', '1'], { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` } });
    await waitFor('the attach (meta.json)', () => existsSync(join(dir, 'b1', 'meta.json')), 20_000);
    writeFileSync(trigger, '');
    const done = await capture.done;
    // The swap happened: b1 is now the other bundle, and the capture's own is b1.moved.
    expect(JSON.parse(readFileSync(join(dir, 'b1', 'meta.json'), 'utf8'))).toMatchObject({ comm: 'FORGED' });
    expect(JSON.parse(readFileSync(join(dir, 'b1.moved', 'meta.json'), 'utf8'))).toMatchObject({ pid: target.pid, exitReason: 'duration' });
    expect(done.stdout).toBe('');
    expect(done.stderr).toMatch(/error: the bundle was moved after the capture ended: .*\/b1 is now another directory; nothing was read from it/);
    expect(done.code).toBe(2);
    expect(procStatus(target.pid!)?.tracerPid).toBe(0);
  }, 30_000);
});

describe('finding 4(b): what the target chooses, on orphanmap live', () => {
  it('a comm with escape sequences is printed escaped when q ends live --pid', async () => {
    const comm = '\x1b]0;PWN\x07\x1b[2J';
    const target = await startTarget(comm);
    expect(readFileSync(`/proc/${target.pid}/comm`, 'latin1')).toBe(`${comm}\n`);
    const bundle = join(work, 'live-comm');
    const stderr = join(work, 'live-comm.stderr');
    term = new TmuxSession('review2-comm');
    term.start(`${['node', CLI, 'live', '--pid', String(target.pid), '--save', bundle].map(shellQuote).join(' ')} 2> ${shellQuote(stderr)}; echo "exited with status $?"; sleep 300`);
    await term.waitForScreen((text) => text.includes('q quit'), 'the live screen', 60_000);
    term.send('q');
    await term.waitForScreen((text) => text.includes('exited with status'), 'orphanmap to exit after q', 60_000);
    const said = readFileSync(stderr, 'latin1');
    expect(said).toContain(`orphanmap: detached from pid ${target.pid} (\\x1b]0;PWN\\x07\\x1b[2J); it runs on, untraced\n`);
    // (The TUI shows the cursor again on its way out, \x1b[?25h: its own sequence.)
    for (const line of said.replace(/\x1b\[\?25h/g, '').split('\n')) expect(line, JSON.stringify(line)).not.toMatch(RAW_CONTROL);
    expect(procStatus(target.pid!)?.tracerPid).toBe(0);
  }, 120_000);
});

describe('live, its --save directory renamed while it follows the trace', () => {
  it('ends with a message saying where the capture left the bundle, not an internal error', async () => {
    const dir = attackerDir('live-renamed');
    const target = await startTarget();
    const live = run(['live', '--pid', String(target.pid), '--save', join(dir, 'lv1'), '--duration', '2']);
    // Renamed once orphanmap follows trace.txt (has it open), as the reviewer's was.
    const following = (): boolean => {
      try {
        return readdirSync(`/proc/${live.child.pid}/fd`).some((fd) => {
          try {
            return readlinkSync(`/proc/${live.child.pid}/fd/${fd}`) === join(dir, 'lv1', 'trace.txt');
          } catch {
            return false;
          }
        });
      } catch {
        return false;
      }
    };
    await waitFor('orphanmap to follow trace.txt', following, 20_000, 20);
    asNobody(`cd ${shellQuote(dir)} && mv lv1 lv1x`);
    const done = await live.done;
    expect(done.stderr).not.toMatch(/internal error/);
    expect(done.stderr).toContain(`orphanmap: ${dir}/lv1: error: following the bundle as it was written failed: no such file; the capture left it in ${dir}/lv1x: orphanmap analyze that directory\n`);
    expect(done.code).toBe(2);
    expect(procStatus(target.pid!)?.tracerPid).toBe(0);
  }, 30_000);
});
