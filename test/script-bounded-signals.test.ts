// The capture scripts trap SIGINT, SIGTERM and SIGHUP (a stop), SIGUSR1 (the
// parent died) and SIGUSR2 (detach). bash leaves its `wait` builtin for a
// trapped signal by a longjmp out of the signal handler, and a signal landing
// just as bash reaps another child loses that child's exit: a later `wait` for
// it blocks for good. A CI run met it: orphanmap's SIGTERM reached the script
// while om_bounded waited on its fds-start.txt child, and the capture hung
// with the target traced. Before the fix, om_bounded under this storm also
// returned 143 (the interrupted `wait`) where its command had exited 0.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureScriptPath } from '../src/capture/index.js';

const LIB = join(captureScriptPath('strace'), '..', 'bundle-lib.sh');

// A trap that interrupts `wait`, as the scripts' traps do, and om_bounded run
// over and over: each round must return its command's status and output.
const HARNESS = `
. "$1"; OM_D=$2
caught=0; trap 'caught=$((caught + 1))' TERM
printf 'ready\\n'
for ((i = 0; i < $3; i++)); do
  om_bounded 5 output printf '%s' "round $i"; status=$?
  [[ $status == 0 && $output == "round $i" ]] || { printf 'round %s: status %s, output "%s"\\n' "$i" "$status" "$output"; exit 1; }
done
printf 'rounds %s caught %s\\n' "$i" "$caught"
`;

interface StormResult {
  code: number | null;
  out: string;
  sent: number;
  hung: boolean;
}

/** Runs the harness for `rounds` rounds while sending it SIGTERM as fast as timers allow. */
function underSignalStorm(rounds: number): Promise<StormResult> {
  const dir = mkdtempSync(join(tmpdir(), 'orphanmap-bounded-'));
  const child = spawn('bash', ['-c', HARNESS, 'harness', LIB, dir, String(rounds)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let sent = 0;
  let storm: NodeJS.Timeout | undefined;
  child.stderr.on('data', (chunk) => (out += chunk));
  child.stdout.on('data', (chunk) => {
    out += chunk;
    storm ??= setInterval(() => {
      if (child.exitCode === null && child.signalCode === null && child.kill('SIGTERM')) sent++;
    }, 0);
  });
  return new Promise((resolve) => {
    const guard = setTimeout(() => {
      clearInterval(storm);
      child.kill('SIGKILL');
      resolve({ code: null, out, sent, hung: true });
    }, 25_000);
    child.on('exit', (code) => {
      clearInterval(storm);
      clearTimeout(guard);
      resolve({ code, out, sent, hung: false });
    });
  });
}

describe("om_bounded under a storm of trapped signals (the capture scripts' stop signals)", () => {
  it('returns each command status and output, and never blocks on a child that has ended', async () => {
    const result = await underSignalStorm(30);
    expect(result.hung, `hung after ${result.sent} signals: ${result.out}`).toBe(false);
    expect(result.out).toMatch(/^ready\nrounds \d+ caught \d+\n$/);
    const [, rounds, caught] = /rounds (\d+) caught (\d+)/.exec(result.out)!.map(Number);
    // The storm did reach the trap, round after round.
    expect(rounds).toBe(30);
    expect(caught).toBeGreaterThanOrEqual(10);
    expect(result.code).toBe(0);
  }, 30_000);
});
