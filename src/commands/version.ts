// orphanmap's version: the one in its package.json, read in one place for
// `--version` and for what `orphanmap report` records in environment.json.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../capture/scripts.js';

export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof manifest.version !== 'string') throw new Error('package.json has no version');
  return manifest.version;
}
