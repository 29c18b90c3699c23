// An attacker for the safety tests: the real unprivileged user nobody, so
// that what it plants really belongs to another user.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/**
 * Two directories side by side in a new one: `home`, nobody's (where nobody
 * plants links), and `vault`, which only root may write (where a planted link
 * would send root's output).
 */
export function nobodysHomeBesideVault(prefix: string): { home: string; vault: string } {
  const top = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(top, 0o755);
  const home = join(top, 'home');
  mkdirSync(home);
  chownSync(home, NOBODY, NOBODY);
  const vault = join(top, 'vault');
  mkdirSync(vault, { mode: 0o755 });
  return { home, vault };
}
