// A capture that has ended leaves no process of its own behind: its
// watchdog, a copy of the capture script that polls every 0.25 s, ran on
// after the script had finished the bundle, and a CI run of
// test/capture-ctrl-c.test.ts found it still there 500 ms after the capture
// ended ("the command, started after all": its arguments name the command).
// The script now ends it once the bundle is finished.
// Truth: /proc, read the moment `orphanmap capture` has exited.
//
// Needs strace.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { workspace } from './scenarios/harness.js';
import { processesWith } from './support/proc.js';
import { CLI, requireTool } from './support/tools.js';

beforeAll(() => requireTool('strace'));

it('capture -- true: once orphanmap capture has exited, no process names its bundle', () => {
  const bundle = join(workspace('nothing-left'), 'bundle');
  const run = spawnSync(process.execPath, [CLI, 'capture', '--backend', 'strace', '--out', bundle, '--', 'true'], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  expect(processesWith(bundle)).toEqual([]);
});
