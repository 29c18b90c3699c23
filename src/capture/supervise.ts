// Spawning and supervising scripts/capture-*.sh. The scripts do the real work
// (attach, snapshots, meta.json, detaching) and are usable without Node; this
// module only starts one, forwards a stop request, follows the trace for live
// views, and reads the finished bundle's meta.json.
//
// Safety does not depend on this process staying alive: the script gets
// --parent-pid process.pid, and its watchdog detaches the tracer if we die,
// even by SIGKILL.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { closeSync, constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { openDirectorySafely, PathRefused } from '../commands/safe-path.js';
import type { BundleMeta } from '../ingest/bundle.js';
import { tailFile } from '../ingest/tail.js';
import { CaptureError, describeSystemError, UsageError } from '../errors.js';
import { escapeControl } from '../report/sanitize.js';
import { captureScriptPath, checkDurationSeconds, type Backend } from './scripts.js';

export interface CaptureOptions {
  backend: Backend;
  /** Attach to this running process (all threads, and what it forks). */
  pid?: number;
  /** Or run this command (argv) under the tracer. */
  command?: string[];
  /**
   * The bundle directory: a new path (the script creates it, mode 0700), or an
   * empty directory this user owns that no one else can write to.
   */
  outDir: string;
  /** Stop after this many seconds; by default run until stopped or the target exits. */
  durationSeconds?: number;
  /** Every line of trace.txt, as the tracer writes it (live views). */
  onLine?: (text: string, lineNo: number) => void;
  /** The script's and the tracer's messages; default: copied to process.stderr. */
  onStderr?: (text: string) => void;
  /** Turn SIGINT/SIGTERM/SIGHUP of this process into stop(); default true. */
  handleSignals?: boolean;
  /** Stdin of a launched command; default 'inherit' for a command, 'ignore' with pid. */
  stdin?: 'inherit' | 'ignore';
  /**
   * A launched command's stdout and stderr go to command.log in the bundle
   * rather than through this process: a command left running by detach()
   * must not write into a pipe that dies with us.
   */
  logCommand?: boolean;
}

/** meta.json as the capture scripts write it: BundleMeta and what only a fresh capture reads. */
export interface CaptureMeta extends BundleMeta {
  /** launched: the trace begins before the command's execve; attached: --pid. */
  mode?: 'launched' | 'attached';
  /**
   * false when the tracer never attached to the --pid target (or never
   * traced the launched command): nothing of it is in the bundle, whatever
   * ended the capture; null in the first meta.json of a capture that had not
   * looked yet. Absent from bundles of captures before review 5.
   */
  attached?: boolean | null;
  /**
   * false while the capture runs, and at its end when the trace may lack events:
   * the tracer failed or died (exitReason tracer-failed, tracer-died), the disk
   * filled up (disk-full), a bundle file could not be written, or the --pid
   * target exited before the tracer attached (target-exited-before-attach:
   * nothing of it was traced).
   */
  complete?: boolean;
  /**
   * Whether detach() can leave the target running, untraced: always with
   * --pid; with a launched command, not where the tracer ends it on letting go
   * (strace --kill-on-exit, bpftrace -c), and `noDetachReason` says why.
   */
  canDetach?: boolean;
  noDetachReason?: string | null;
}

export interface CaptureResult {
  bundleDir: string;
  meta: CaptureMeta;
  /** True when the capture ended because stop() was called or a signal arrived (the script exits 130). */
  stopped: boolean;
}

export interface CaptureHandle {
  /** The capture script's pid. */
  readonly pid: number;
  readonly bundleDir: string;
  /**
   * Resolves with a complete bundle; rejects with a UsageError when the
   * script refused the target or --out, a CaptureError when the tracer could
   * not run or failed, or following trace.txt (onLine) failed.
   */
  readonly done: Promise<CaptureResult>;
  /**
   * Asks for a clean stop: end snapshot, final meta.json; an attached target
   * is detached, a launched command ended (SIGTERM, then SIGKILL). Idempotent.
   */
  stop(): void;
  /**
   * Asks the capture to end and leave the target running, untraced (exitReason
   * "detached"). For a launched command the script refuses when meta.json says
   * "canDetach": false, and the capture goes on. Idempotent; stop() after it
   * still asks for the stop (which a detach under way ignores).
   */
  detach(): void;
}

const SCRIPT_EXIT_USAGE = 2;
/** The script was stopped by SIGINT, SIGTERM or SIGHUP: the bundle is complete up to then. */
const SCRIPT_EXIT_INTERRUPTED = 130;
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function validateCaptureOptions(options: CaptureOptions): void {
  const hasPid = options.pid !== undefined;
  const hasCommand = options.command !== undefined && options.command.length > 0;
  if (hasPid === hasCommand) throw new UsageError('give either --pid N or -- CMD ARGS..., not both and not neither');
  if (hasPid && (!Number.isInteger(options.pid) || (options.pid ?? 0) <= 0)) throw new UsageError(`--pid needs a positive integer, got ${options.pid}`);
  if (options.durationSeconds !== undefined) checkDurationSeconds(options.durationSeconds, String(options.durationSeconds));
  if (options.outDir.trim() === '') throw new UsageError('--out needs a directory');
}

/**
 * The script's fd that holds the directory the bundle is made in
 * (--out-parent-fd), opened here by openOutParent.
 */
export const OUT_PARENT_FD = 8;

/**
 * The script's fd that reads stop and detach requests (--control-fd): a byte
 * each, sent with the signal that asks the same. A signal alone was once lost
 * at the start of a capture, and the target stayed traced; a second signal
 * would cut the end snapshots short, a byte cannot be lost
 * (bundle-lib.sh, om_take_requests).
 */
export const CONTROL_FD = 7;

/** The script's argv, without the script itself. */
export function captureScriptArgs(options: CaptureOptions, parentPid: number = process.pid): string[] {
  // --print-id: the bundle directory's device and inode, which readFinishedMeta checks.
  const args = ['-o', resolve(options.outDir), '--parent-pid', String(parentPid), '--print-id', '--out-parent-fd', String(OUT_PARENT_FD), '--control-fd', String(CONTROL_FD)];
  // The scripts read plain decimals (`1e3` is not one) and count milliseconds.
  if (options.durationSeconds !== undefined) args.push('-d', String(Math.round(options.durationSeconds * 1000) / 1000));
  if (options.pid !== undefined) args.push('-p', String(options.pid));
  else {
    if (options.logCommand === true) args.push('--log-command');
    args.push('--', ...(options.command ?? []));
  }
  return args;
}

/**
 * The directory that will hold the bundle, reached one component at a time,
 * a link on the way followed only if it is this user's or root's
 * (safe-path.ts): capture runs as root, and a link another user planted above
 * --out would have the script make root's bundle where that user chose.
 * The script makes the bundle in this very directory (its fd OUT_PARENT_FD),
 * whatever is put at its path meanwhile.
 */
function openOutParent(bundleDir: string): number {
  const parent = dirname(bundleDir);
  try {
    return openDirectorySafely(parent);
  } catch (error) {
    if (!(error instanceof PathRefused)) throw error;
    const hint = error.code === 'ENOENT' ? ' (it must exist: capture creates only the last component)' : '';
    throw new UsageError(`cannot open ${escapeControl(parent)}, the directory that would hold ${escapeControl(bundleDir)}${hint}: ${error.why}`);
  }
}

export function startCapture(options: CaptureOptions): CaptureHandle {
  validateCaptureOptions(options);
  const bundleDir = resolve(options.outDir);
  const script = captureScriptPath(options.backend);
  const stdin = options.stdin ?? (options.pid !== undefined ? 'ignore' : 'inherit');
  const outParent = openOutParent(bundleDir);
  const stdio: ('ignore' | 'pipe' | 'inherit' | number)[] = [stdin, 'pipe', 'pipe'];
  while (stdio.length < OUT_PARENT_FD) stdio.push('ignore');
  stdio[CONTROL_FD] = 'pipe';
  stdio.push(outParent);
  let child: ChildProcessByStdio<Writable | null, Readable, Readable>;
  try {
    // (Its stdout and stderr are pipes: the tuple is longer than spawn's typings follow.)
    child = spawn(script, captureScriptArgs(options), { stdio }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
  } finally {
    // The script has its own.
    closeSync(outParent);
  }

  // Bytes: the path the script prints may be any bytes but NUL.
  const stdoutChunks: Buffer[] = [];
  let stderrTail = '';
  child.stdout.on('data', (chunk: Buffer) => stdoutChunks.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
    if (options.onStderr) options.onStderr(chunk);
    else process.stderr.write(chunk);
  });

  // A socket (Node makes one for 'pipe' past fd 2). Written to only while the
  // script runs; a write racing its exit fails with EPIPE, and its exit says
  // how it ended.
  const control = (child.stdio as unknown as Writable[])[CONTROL_FD]!;
  control.on('error', () => {});
  // The signal first: pending by the time the byte can be read, it is taken before the stop it starts; a byte read
  // first would make it a second stop, which cuts the end snapshots short (om_with_late_stop; review 37, F2).
  const ask = (byte: string, signal: NodeJS.Signals): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    control.write(byte);
  };
  // Asked to stop or to detach (CaptureResult.stopped). A stop after a detach is still sent: the script may have
  // refused the detach (a launched command it cannot let go of), and the stop was then lost, with orphanmap's SIGINT
  // and the live view's `q` (review 37); a detach under way ignores it.
  let stopped = false;
  let stopAsked = false;
  const stop = (): void => {
    if (stopAsked) return;
    stopAsked = stopped = true;
    // The script traps SIGTERM and runs its full stop sequence.
    ask('s', 'SIGTERM');
  };
  const detach = (): void => {
    if (stopped) return;
    stopped = true;
    // The script traps SIGUSR2: end snapshot, the tracer lets go, the target runs on.
    ask('d', 'SIGUSR2');
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) for (const signal of STOP_SIGNALS) process.on(signal, stop);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit, rejectExit) => {
    child.once('error', rejectExit);
    // 'exit', not 'close': a launched command may keep our stderr pipe open.
    child.once('exit', (code, signal) => resolveExit({ code, signal }));
  });
  // A failure to follow the trace (unreadable, vanished) stops the capture:
  // a live view must not go quiet while the tracer goes on.
  let tailFailure: unknown = null;
  const tail = options.onLine
    ? tailFile(join(bundleDir, 'trace.txt'), options.onLine, { writerDone: exited }).catch((error: unknown) => {
        tailFailure = error;
        stop();
      })
    : Promise.resolve();

  const done = (async (): Promise<CaptureResult> => {
    try {
      let exit: { code: number | null; signal: NodeJS.Signals | null };
      try {
        exit = await exited;
      } catch (error) {
        throw new CaptureError(`cannot run ${script}: ${(error as Error).message}`, undefined, error);
      }
      await tail;
      // A process the script started may still hold our pipes: let go of them,
      // or this process could not exit until that one does.
      child.stdout.destroy();
      child.stderr.destroy();
      control.destroy();
      const reason = lastMessage(stderrTail);
      if (tailFailure !== null) {
        throw new CaptureError(`stopped the capture: reading ${join(bundleDir, 'trace.txt')} as it was written failed: ${describeSystemError(tailFailure)}`, bundleDir, tailFailure);
      }
      // The script checks the target and --out before it traces: what it refuses is the caller's to fix.
      if (exit.code === SCRIPT_EXIT_USAGE) throw new UsageError(reason ?? `capture-${options.backend}.sh rejected its arguments`);
      // A Ctrl-C in a terminal reaches the script directly, before or without stop().
      if (exit.code === SCRIPT_EXIT_INTERRUPTED) stopped = true;
      else if (exit.code !== 0) {
        const how = exit.code === null ? `was killed by ${exit.signal}` : `failed (exit status ${exit.code})`;
        // A script killed by a signal said nothing of its target: whether it is still traced is read from /proc.
        const fate = exit.code === null ? await targetFate(options.pid ?? (await launchedPid(bundleDir))) : null;
        // Killed by the very stop asked for (this process's SIGTERM, a Ctrl-C's SIGINT to the whole group): the script
        // traps those from before it starts the tracer to its end, so it had not started it. Said as the stop it
        // was, not as a failure ("was killed by SIGTERM" for a Ctrl-C the moment the capture began).
        if (stopped && exit.signal !== null && (STOP_SIGNALS as readonly string[]).includes(exit.signal)) {
          throw new CaptureError(`the capture was stopped (${exit.signal}) as it began, before ${options.backend} was started: nothing was traced${fate === null ? '' : `; ${fate}`}`, bundleDir);
        }
        throw new CaptureError(`capture with ${options.backend} ${how}${reason ? `: ${reason}` : ''}${fate === null ? '' : `; ${fate}`}`, bundleDir);
      }
      const { dir, meta } = await readFinishedMeta(Buffer.concat(stdoutChunks), bundleDir, options.backend);
      // Stopped (130) before the tracer attached: a bundle that proves nothing is no result to hand back.
      if (meta.attached === false) throw new CaptureError(reason ?? `the capture was stopped before ${options.backend} attached: nothing was traced`, dir);
      return { bundleDir: dir, meta, stopped };
    } finally {
      if (handleSignals) for (const signal of STOP_SIGNALS) process.off(signal, stop);
    }
  })();

  return { pid: child.pid ?? -1, bundleDir, done, stop, detach };
}

/**
 * The finished bundle, from what the script printed: "id DEV:INODE" of the
 * directory it wrote, then the path where that directory is now. Whoever owns
 * a directory above the bundle can rename it at any moment, to any name (a
 * newline, escape sequences), and put another directory, say an older
 * root-owned bundle, at the printed path: so the path is opened once, its
 * device and inode must be the ones printed, and meta.json is read through
 * that open directory, never by path again.
 */
async function readFinishedMeta(printed: Buffer, asked: string, backend: Backend): Promise<{ dir: string; meta: CaptureMeta }> {
  const match = /^id (\d+):(\d+)\n/.exec(printed.toString('latin1'));
  if (match === null || !printed.subarray(-1).equals(Buffer.from('\n'))) {
    throw new CaptureError(
      `capture-${backend}.sh did not say where the bundle is (expected "id DEV:INODE" and its path on stdout, got ${JSON.stringify(escapeControl(printed.toString('utf8').slice(0, 200)))})`,
      asked,
    );
  }
  const pathBytes = printed.subarray(match[0].length, -1);
  const dir = pathBytes.toString('utf8');
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    try {
      handle = await open(pathBytes, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NONBLOCK);
    } catch (error) {
      throw new CaptureError(`the bundle was moved after the capture ended: it is no longer at ${escapeControl(dir)} (${describeSystemError(error)}); nothing was read`, asked, error);
    }
    const stat = await handle.stat({ bigint: true });
    if (stat.dev !== BigInt(match[1]!) || stat.ino !== BigInt(match[2]!)) {
      throw new CaptureError(`the bundle was moved after the capture ended: ${escapeControl(dir)} is now another directory; nothing was read from it`, asked);
    }
    return { dir, meta: await readBundleMeta(`/proc/self/fd/${handle.fd}`, dir) };
  } finally {
    await handle?.close();
  }
}

/**
 * The meta.json a capture just wrote. Read without following a link and only
 * if this user owns it: the capture runs as root, and whoever owns a directory
 * above the bundle could have swapped the bundle for links by now. `shown`:
 * the directory's name in messages, when `bundleDir` is a /proc/self/fd path.
 */
export async function readBundleMeta(bundleDir: string, shown: string = bundleDir): Promise<CaptureMeta> {
  const path = join(bundleDir, 'meta.json');
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const stat = await handle.stat();
    const me = process.geteuid?.();
    if (!stat.isFile() || (me !== undefined && stat.uid !== me)) throw new Error(`not a file this capture wrote (a ${stat.isFile() ? 'file' : 'non-file'} owned by uid ${stat.uid})`);
    return JSON.parse(await handle.readFile('utf8')) as CaptureMeta;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ELOOP' ? 'it is a symbolic link' : (error as Error).message;
    throw new CaptureError(`unreadable bundle metadata: ${escapeControl(reason)}`, escapeControl(join(shown, 'meta.json')), error);
  } finally {
    await handle?.close();
  }
}

/** How long a dead script's tracer may take to let go of its target: the kernel detaches it as the tracer exits. */
const DETACH_WAIT_MS = 3000;

/**
 * Whether `pid` is still traced, stopped or gone, in words, once its tracer
 * had time to end: the script starts it to die with the script (SIGKILL,
 * PR_SET_PDEATHSIG), and the kernel then detaches an attached target.
 * null when there is no pid to look at.
 */
async function targetFate(pid: number | undefined): Promise<string | null> {
  if (pid === undefined) return null;
  const deadline = Date.now() + DETACH_WAIT_MS;
  let status = await procStatus(pid);
  while (status !== null && status.tracerPid !== 0 && Date.now() < deadline) {
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
    status = await procStatus(pid);
  }
  if (status === null || status.state === 'Z' || status.state === 'X') return `pid ${pid} has exited`;
  const stopped = /^[tT]$/.test(status.state) ? `, and it is stopped (State ${status.state})` : '';
  if (status.tracerPid === 0) return `pid ${pid} is not traced (TracerPid 0)${stopped}`;
  return `pid ${pid} is still traced by pid ${status.tracerPid} (TracerPid ${status.tracerPid})${stopped}: end that process to let it go`;
}

/** State and TracerPid of /proc/PID/status; null when the process is gone. */
async function procStatus(pid: number): Promise<{ state: string; tracerPid: number } | null> {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    return { state: /^State:\s*(\S)/m.exec(text)?.[1] ?? '?', tracerPid: Number(/^TracerPid:\s*(\d+)/m.exec(text)?.[1] ?? 0) };
  } catch {
    return null;
  }
}

/** A launched command's pid, from the meta.json the script wrote once it ran; undefined if there is none. */
async function launchedPid(bundleDir: string): Promise<number | undefined> {
  try {
    const { pid } = await readBundleMeta(bundleDir);
    return Number.isSafeInteger(pid) && (pid ?? 0) > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The last "error:" line the script printed, or its last line. */
function lastMessage(stderr: string): string | null {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const error = [...lines].reverse().find((line) => /\berror: /.test(line));
  const line = error ?? lines[lines.length - 1];
  return line === undefined ? null : line.replace(/^capture-(strace|bpftrace): (error: )?/, '');
}
