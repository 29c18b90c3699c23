// The capture scripts ignore SIGPIPE (their stderr may be a pipe to an
// orphanmap that is gone), and their helpers inherited that: a helper run by
// om_out whose script was killed (kill -9, as capture-review5-killed-capture
// does) got EPIPE writing its output and said so on orphanmap's stderr,
// "awk: close failed on file /dev/stdout (Broken pipe)", which that test once
// caught as a line no capture should print. om_out now runs its command with
// SIGPIPE as it comes by default: it dies of it, silently.
//
// Real bash, the real bundle-lib.sh, a real awk, a real SIGKILL.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { captureScriptPath } from '../src/capture/index.js';

const LIB = join(captureScriptPath('strace'), '..', 'bundle-lib.sh');

// As the scripts run: SIGPIPE ignored, then a helper through om_out that writes after a while.
const HARNESS = `
. "$1"
trap '' PIPE
printf 'ready\\n'
om_out value awk 'BEGIN { system("sleep 1"); print "late" }'
`;

it('a helper of om_out that outlives its killed script says nothing on stderr', async () => {
  const child = spawn('bash', ['-c', HARNESS, 'harness', LIB], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  // The awk is running (its sleep): the script dies under it.
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.kill('SIGKILL');
  // The helper writes once its sleep ends, then exits; its stderr is the pipe read here until it closes.
  await new Promise<void>((resolve) => child.stderr.once('close', () => resolve()));
  expect(stderr).toBe('');
}, 20_000);
