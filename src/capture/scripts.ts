// Where the capture scripts live. The package ships scripts/ next to dist/
// (package.json "files"), and tests run the TypeScript from src/: both are one
// directory below the package root, but walking up to package.json keeps this
// right if the layout of dist/ ever changes.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';

export type Backend = 'strace' | 'bpftrace';
export const BACKENDS: readonly Backend[] = ['strace', 'bpftrace'];

let cachedRoot: string | null = null;

/** The directory holding orphanmap's package.json. */
export function packageRoot(): string {
  if (cachedRoot !== null) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && isOrphanmapManifest(manifest)) {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find orphanmap's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

function isOrphanmapManifest(path: string): boolean {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown }).name === 'orphanmap';
  } catch {
    return false;
  }
}

export function scriptsDir(): string {
  return join(packageRoot(), 'scripts');
}

/** scripts/capture-strace.sh or scripts/capture-bpftrace.sh. */
export function captureScriptPath(backend: Backend): string {
  return join(scriptsDir(), `capture-${backend}.sh`);
}

/**
 * What a duration may be: at least the millisecond the script is given it to
 * (-d N.NNN), at most 2^31-1 ms, as Node's timers and the scripts' first
 * count (mawk's printf %d) stop there. The scripts now count it in bash, up to
 * 12 digits of seconds: the bound stays the one users were told.
 */
export const DURATION_MIN_SECONDS = 0.001;
export const DURATION_MAX_SECONDS = 2_147_483;

/** `--duration` (or a duration given through the API) within what the scripts can keep. */
export function checkDurationSeconds(seconds: number, shown: string, flag = '--duration'): void {
  if (!(seconds >= DURATION_MIN_SECONDS && seconds <= DURATION_MAX_SECONDS)) {
    throw new UsageError(`${flag} needs a number of seconds from ${DURATION_MIN_SECONDS} to ${DURATION_MAX_SECONDS} (24.8 days), not ${shown}`);
  }
}
