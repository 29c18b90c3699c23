// bash reads a script as it runs it. A capture script replaced while a
// capture runs (orphanmap upgraded on the host; in review 9, edited in the
// repository) was read on after the capture returned, from the old offset
// into the new text: "syntax error near unexpected token", exit 2, after a
// complete bundle. The script's last command now ends it on the same line.
// Real strace, as root; the scripts are copies, rewritten as an upgrade would.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { REPO, requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-script-replaced.test.ts must run as root (it traces with strace)');
  requireTool('strace');
});

it('a capture whose script is rewritten in place while it runs finishes as if it had not been', async () => {
  const work = mkdtempSync(join(tmpdir(), 'orphanmap-script-replaced-'));
  for (const name of ['capture-strace.sh', 'bundle-lib.sh']) copyFileSync(join(REPO, 'scripts', name), join(work, name));
  const script = join(work, 'capture-strace.sh');
  const out = join(work, 'bundle');
  // The command ends when its stdin does: after the rewrite.
  const capture = spawn('bash', [script, '-o', out, '--', '/bin/sh', '-c', 'read line'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  capture.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  capture.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => capture.once('exit', (code) => resolve(code)));
  await waitFor('the command to run traced (its execve in trace.txt)', () => existsSync(join(out, 'trace.txt')) && readFileSync(join(out, 'trace.txt'), 'utf8').includes('execve('), 30_000);

  // In place, the same inode, every line moved: the new version has a longer header.
  const original = readFileSync(script, 'utf8');
  writeFileSync(script, `${'# a longer header in the next version\n'.repeat(40)}${original}\nfor x in ) ; do :; done\n`);
  capture.stdin.end();

  expect(await exited, stderr).toBe(0);
  expect(stderr).not.toMatch(/syntax error|unexpected/);
  expect(stdout.trim()).toBe(out);
  const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as { complete?: boolean; exitReason?: string };
  expect(meta).toMatchObject({ complete: true, exitReason: 'target-exited' });
});
