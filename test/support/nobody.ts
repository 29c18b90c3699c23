// An attacker for the safety tests: the real unprivileged user nobody, so
// that what it plants really belongs to another user.
import { spawnSync } from 'node:child_process';

export const NOBODY = 65534;

/** Runs a shell command as nobody: its status and stderr. */
export function runAsNobody(command: string): { status: number | null; stderr: string } {
  const result = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'sh', '-c', command], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

/** Runs a shell command as nobody; throws if it fails. */
export function asNobody(command: string): void {
  const result = runAsNobody(command);
  if (result.status !== 0) throw new Error(`as nobody: ${command}: ${result.stderr}`);
}
