// Where the capture scripts live. The package ships scripts/ next to dist/
// (package.json "files"), and tests run the TypeScript from src/: both are one
// directory below the package root, but walking up to package.json keeps this
// right if the layout of dist/ ever changes.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Backend = 'strace' | 'bpftrace';
export const BACKENDS: readonly Backend[] = ['strace', 'bpftrace'];

let cachedRoot: string | null = null;

/** The directory holding orphanmap's package.json. */
export function packageRoot(): string {
  if (cachedRoot !== null) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && isOrphanmapManifest(manifest)) return (cachedRoot = dir);
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
