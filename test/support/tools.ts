// Real tools for real tests. A test that needs a tool the machine lacks fails
// loudly and says so (requireTool, the one way tests check for a tool);
// .ci/run installs every one of them.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '..', '..');
export const CLI = join(REPO, 'dist', 'cli.js');

export function requireTool(tool: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  if (found.status !== 0) {
    throw new Error(`this test needs ${tool}, which is not installed here (.ci/run installs it with apt-get)`);
  }
}

let compiled: string | null = null;

/** Compile the JVM reproducer once per test file; returns its class directory. */
export function compileReproducer(): string {
  requireTool('javac');
  if (compiled !== null) return compiled;
  const classes = mkdtempSync(join(tmpdir(), 'orphanmap-classes-'));
  execFileSync('javac', ['-d', classes, join(REPO, 'scripts', 'repro', 'IndexLifecycle.java')], { stdio: 'pipe' });
  compiled = classes;
  return classes;
}

/** The syscalls the engine follows, for strace -e trace=. */
export const STRACE_FILTER =
  'open,openat,openat2,creat,memfd_create,close,close_range,dup,dup2,dup3,fcntl,mmap,munmap,mremap,madvise,ftruncate,truncate,rename,renameat,renameat2,link,linkat,symlink,symlinkat,unlink,unlinkat,chdir,fchdir,clone,clone3,fork,vfork,execve,execveat,exit,exit_group,io_uring_setup,chroot,pivot_root,setns,mount,move_mount,umount2,open_tree,fsmount,unshare';

/**
 * The built CLI (dist/cli.js) with these arguments; `env` is added to this
 * process's environment. A run past 100 s is killed (status -1), so a test of
 * an endless input fails instead of hanging its worker.
 */
export function runCli(args: string[], input?: string, env?: Record<string, string>): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    input,
    maxBuffer: 256 * 1024 * 1024,
    timeout: 100_000,
    ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** What `analyze --format json` reports of a verdict: its findings, the mappings in doubt, the warnings. */
export interface Verdict {
  findings: unknown[];
  summary: { mappingsInDoubt: number };
  warnings: string[];
}

/**
 * `analyze INPUT --format json --fail-on error`, kept to the files `path` matches and to process `pid` when given (a
 * doubt is counted by both, as a finding is): the report, and the exit status `--fail-on` gave.
 */
export function verdictOf(input: string, only: { path?: string; pid?: number } = {}): { report: Verdict; failOn: number } {
  const kept = [...(only.path === undefined ? [] : ['--path', only.path]), ...(only.pid === undefined ? [] : ['--pid', String(only.pid)])];
  const run = runCli(['analyze', input, '--format', 'json', '--fail-on', 'error', ...kept]);
  return { report: JSON.parse(run.stdout) as Verdict, failOn: run.status };
}

/** The built CLI run without blocking this process (a swapper it races must keep running meanwhile): its status and stderr. */
export function runCliAsync(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

/**
 * `during` done under `strace -p PID -f -ttt [flags] -o output`: strace is
 * started (and pushed onto `started`, for the caller's cleanup), `during` runs
 * once strace says it attached, and strace is stopped (SIGINT) and waited for.
 */
export async function underStraceAttached(pid: number, flags: string[], output: string, started: ChildProcess[], during: () => Promise<void>): Promise<void> {
  const strace = await straceAttached(pid, flags, output, started);
  // Listened for before `during`: strace may end while it runs (its tracee exited).
  const stopped = new Promise((resolve) => strace.once('exit', resolve));
  await during();
  strace.kill('SIGINT');
  await stopped;
}

/**
 * `strace -p PID -f -ttt [flags] -o output`, pushed onto `started` (for the
 * caller's cleanup), once its stderr says it attached; throws when it exits
 * first or has not said so in 20 s.
 */
async function straceAttached(pid: number, flags: string[], output: string, started: ChildProcess[]): Promise<ChildProcess> {
  const strace = spawn('strace', ['-p', String(pid), '-f', '-ttt', ...flags, '-o', output], { stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(strace);
  let stderr = '';
  strace.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const deadline = Date.now() + 20_000;
  while (!stderr.includes('attached')) {
    if (Date.now() > deadline || strace.exitCode !== null) throw new Error(`strace did not attach: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return strace;
}
