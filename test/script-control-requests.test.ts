// What the capture scripts do with the bytes orphanmap sends on --control-fd
// (om_take_requests), in the two states where they must leave them unread
// (review 37's notes: neither had a test):
// - a stop already under way. The end snapshots can last, so while they are
//   taken a SIGINT, SIGTERM or SIGHUP cuts them short (om_with_late_stop).
//   Taking an "s" then would run the stop's trap again, which ignores those
//   signals from then on: the Ctrl-C meant to cut the snapshots short would
//   go unheard.
// - a subshell of the script. A byte a child takes stops only that child.
// The harness sources bundle-lib.sh and is given a real socket on fd 7, as
// orphanmap's supervise.ts gives the script; the byte is orphanmap's "s".
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { captureScriptPath } from '../src/capture/index.js';
import { CONTROL_FD } from '../src/capture/supervise.js';

const LIB = join(captureScriptPath('strace'), '..', 'bundle-lib.sh');

/** Runs `body` after bundle-lib.sh, fd CONTROL_FD (7, where the script moves it) a socket: `send` writes on its other end. Output is stdout and stderr together. */
function harness(body: string, onLine: (line: string, send: (bytes: string) => void, signal: (name: NodeJS.Signals) => void) => void): Promise<{ code: number | null; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'om-requests-'));
  const script = `. "$1"; OM_D=$2; OM_CONTROL_FD=${CONTROL_FD}\n${body}`;
  const stdio: ('ignore' | 'pipe')[] = ['ignore', 'pipe', 'pipe'];
  while (stdio.length <= CONTROL_FD) stdio.push('ignore');
  stdio[CONTROL_FD] = 'pipe';
  const child = spawn('bash', ['-c', script, 'harness', LIB, dir], { stdio });
  const control = (child.stdio as unknown as Writable[])[CONTROL_FD]!;
  let out = '';
  let pending = '';
  child.stderr!.on('data', (chunk) => (out += chunk));
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk;
    pending += chunk;
    for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      onLine(
        line,
        (bytes) => control.write(bytes),
        (name) => child.kill(name),
      );
    }
  });
  return new Promise((resolve) => {
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, out });
    });
  });
}

describe('bytes on --control-fd that the script leaves unread', () => {
  it('once a stop is under way: an "s" taken during the end snapshots would make the SIGTERM meant to cut them short go unheard', async () => {
    // The state of the end snapshots: a stop asked for (--duration), the tracer stopped and gone, the stop signals
    // ignored, then om_with_late_stop around a wait that polls for requests (om_bounded's, as the links of
    // maps-end.txt are counted). The "s" is sent before the wait, the SIGTERM during it.
    const body = `
OM_STOP_REASON=duration OM_STOPPED=1
sleep 0 & OM_TRACER_PID=$!; wait "$OM_TRACER_PID"; OM_TRACER_ST=0
trap '' INT TERM HUP
printf 'send\\n'
# A second for the byte to arrive.
IFS= read -r -t 5 _ < <(sleep 1)
waited() { printf 'waiting\\n'; om_bounded 10 v sleep 3; }
om_with_late_stop waited
printf 'cut=%s reason=%s\\n' "$OM_END_CUT" "$OM_STOP_REASON"
if IFS= read -r -t 1 -n 1 -d '' -u 7 byte; then printf 'left=%s\\n' "$byte"; else printf 'left=none\\n'; fi
`;
    let sentAt = 0;
    const result = await harness(body, (line, send, signal) => {
      if (line === 'send') send('s');
      if (line === 'waiting') {
        sentAt = Date.now();
        // om_bounded looks for requests every 50 ms: half a second is ten looks with the byte waiting.
        setTimeout(() => signal('SIGTERM'), 500);
      }
    });
    expect(result.code, result.out).toBe(0);
    expect(sentAt).toBeGreaterThan(0);
    expect(result.out).toContain('cut=signal reason=duration\n');
    expect(result.out).toContain('left=s\n');
  }, 30_000);

  it('in a subshell of the script: the byte stays for the script itself', async () => {
    const body = `
printf 'send\\n'
IFS= read -r -t 5 _ < <(sleep 1)
# The subshell looks first; without the script's own pid check it took the byte.
( om_take_requests; printf 'subshell reason=%s\\n' "$OM_STOP_REASON" )
om_take_requests
printf 'script reason=%s\\n' "$OM_STOP_REASON"
`;
    const result = await harness(body, (line, send) => {
      if (line === 'send') send('s');
    });
    expect(result.code, result.out).toBe(0);
    expect(result.out).toContain('subshell reason=\n');
    expect(result.out).toContain('script reason=interrupted\n');
  }, 30_000);
});
