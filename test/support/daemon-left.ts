// A launched capture whose command exits leaving a daemon running (`sh -c '(python3 … &); wait for its pid file'`),
// for either capture script: the daemon's pid and the capture's exit, and the checks both backends share.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { readBundleMeta } from '../../src/capture/index.js';
import { runCli } from './tools.js';

/**
 * Runs `script -o WORK/NAME -- sh -c …` whose python3 daemon outlives the command, then checks what is said of it: on
 * stderr, in meta.json (leftRunning) and in the analysis' warning. The caller kills the daemon (its pid is returned).
 */
export async function captureLeavingDaemon(
  script: string,
  python: string,
  work: string,
  name: string,
  children: ChildProcess[],
): Promise<{ daemonPid: number; stderr: string; check: () => Promise<void> }> {
  const dir = join(work, name);
  const pidFile = join(work, `${name}.pid`);
  const daemon = `import os, time\nopen(${JSON.stringify(pidFile)}, "w").write(str(os.getpid()))\ntime.sleep(120)`;
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(script, ['-o', dir, '--', 'sh', '-c', `(${python} -c '${daemon}' &); while [ ! -s ${pidFile} ]; do sleep 0.05; done`], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
  const daemonPid = Number(readFileSync(pidFile, 'utf8'));
  const check = async () => {
    expect(result.code, result.stderr).toBe(0);
    const meta = await readBundleMeta(dir);
    expect(meta.exitReason).toBe('target-exited');
    // Said, not left for "no mapping outlived its file" to stand for it: on stderr, in meta.json and in the analysis.
    expect(result.stderr).toContain(`the command exited, but 1 process(es) it started still run (pids ${daemonPid}): `);
    expect(meta.leftRunning).toBe(1);
    const analyzed = runCli(['analyze', dir, '--format', 'json']);
    expect(analyzed.status, analyzed.stderr).toBe(0);
    const { warnings } = JSON.parse(analyzed.stdout) as { warnings: string[] };
    expect(warnings.filter((warning) => warning.startsWith('the command exited while 1 process(es) it started still ran'))).toHaveLength(1);
  };
  return { daemonPid, stderr: result.stderr, check };
}

/** SIGKILL to `pid`, if it is still there. */
export function killDaemon(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}
