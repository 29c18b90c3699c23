// An ext4 file system of a test's own, on a loop device: nothing else makes or
// frees files there, so a number the kernel frees comes back on the next file
// made (ext4 gives the lowest free one at once).
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { expect } from 'vitest';

/** Makes IMAGE (16 MiB) with mkfs.ext4 `options`, loop-mounts it at `at` (made), and puts `at` first in `mounts` (unmount in that order). */
export function mountExt4(image: string, at: string, mounts: string[], options: string[] = []): void {
  closeSync(openSync(image, 'w'));
  spawnSync('truncate', ['-s', '16M', image]);
  const made = spawnSync('mkfs.ext4', ['-q', '-F', ...options, image], { encoding: 'utf8' });
  expect(made.status, `mkfs.ext4: ${made.stderr}`).toBe(0);
  mkdirSync(at);
  const mounted = spawnSync('mount', ['-o', 'loop', image, at], { encoding: 'utf8' });
  expect(mounted.status, `cannot loop-mount ext4: ${mounted.stderr}`).toBe(0);
  mounts.unshift(at);
}
