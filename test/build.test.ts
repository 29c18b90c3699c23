// The README's main command after a rebuild (issue #12): tsc writes
// dist/cli.js without the execute bit, and `npx orphanmap` runs it through a
// link that npx made once, so a clean rebuild without `postbuild` made it
// "Permission denied" (exit 127). In a copy of the project, as a user would:
// build, run, clean, build again, run again. The first build is the one
// `npm test` made (copied with its modes): one build fewer, the same link.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './support/tools.js';

const copy = mkdtempSync(join(tmpdir(), 'orphanmap-build-'));
const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };

function run(command: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd: copy, encoding: 'utf8', timeout: 180_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'rolldown.config.mjs', 'src', 'scripts'])
    cpSync(join(REPO, entry), join(copy, entry), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'));
});

afterAll(() => {
  rmSync(copy, { recursive: true, force: true });
  // npx keeps a link to the copy in its cache: remove that entry, not the cache.
  const cache = join(homedir(), '.npm', '_npx');
  if (!existsSync(cache)) return;
  for (const entry of readdirSync(cache)) {
    const manifest = join(cache, entry, 'package.json');
    if (existsSync(manifest) && readFileSync(manifest, 'utf8').includes(copy)) rmSync(join(cache, entry), { recursive: true, force: true });
  }
});

describe('npm run build', () => {
  it('leaves dist/cli.js executable, and npx orphanmap runs after a clean rebuild', () => {
    if (existsSync(join(REPO, 'dist', 'cli.js'))) cpSync(join(REPO, 'dist'), join(copy, 'dist'), { recursive: true });
    else expect(run('npm', ['run', 'build']).status).toBe(0);
    expect(statSync(join(copy, 'dist', 'cli.js')).mode & 0o111).toBe(0o111);
    const first = run('npx', ['orphanmap', '--version']);
    expect([first.status, first.stdout], first.stderr).toEqual([0, `${version}\n`]);

    rmSync(join(copy, 'dist'), { recursive: true });
    const rebuilt = run('npm', ['run', 'build']);
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    expect(statSync(join(copy, 'dist', 'cli.js')).mode & 0o111).toBe(0o111);
    const again = run('npx', ['orphanmap', '--version']);
    expect([again.status, again.stdout], again.stderr).toEqual([0, `${version}\n`]);
  }, 400_000);
});
