// Review 61, F-2: `capture -- CMD` hands CMD orphanmap's stdin, and sends
// CMD's stdout and stderr both to orphanmap's stderr: orphanmap's stdout
// says only where the bundle is (scripts read it), as the README says.
//
// Needs strace.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { workspace } from './scenarios/harness.js';
import { CLI, requireTool } from './support/tools.js';

beforeAll(() => requireTool('strace'));

it('a launched command reads orphanmap’s stdin and writes to its stderr; orphanmap’s stdout is the bundle’s path', () => {
  const bundle = join(workspace('command-output'), 'bundle');
  const run = spawnSync(process.execPath, [CLI, 'capture', '--backend', 'strace', '--out', bundle, '--', 'sh', '-c', 'read line; echo "out:$line"; echo err >&2'], {
    input: 'hello\n',
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toBe(`${bundle}\n`);
  expect(run.stderr.split('\n')).toEqual(expect.arrayContaining(['out:hello', 'err']));
});
