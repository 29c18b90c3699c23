// om_deadline_reached decides when --duration has passed since the attach. It
// is asked at every look of every wait while the tracer is attached, so it
// counts in bash on $EPOCHREALTIME; these cases pin that count to the test's
// own clock, with the forms `-d` accepts (a fraction, leading zeros, a number
// too large to ever pass).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureScriptPath } from '../src/capture/index.js';

const LIB = join(captureScriptPath('strace'), '..', 'bundle-lib.sh');

/** Asks om_deadline_reached for each SECONDS at once, the start `agoMs` before now by Node's clock: "yes" or "no" per line. */
function reached(agoMs: number, seconds: string[]): string[] {
  const startNs = (BigInt(Date.now() - agoMs) * 1_000_000n).toString();
  const script = '. "$1"; start=$2; shift 2; for s in "$@"; do if om_deadline_reached "$start" "$s"; then echo yes; else echo no; fi; done';
  const out = execFileSync('bash', ['-c', script, 'harness', LIB, startNs, ...seconds], { encoding: 'utf8' });
  return out.trimEnd().split('\n');
}

describe('om_deadline_reached (--duration counted from the attach)', () => {
  it('is reached once the seconds have passed, not before, to the fraction', () => {
    // 3 s ago by Node's clock; a few hundred ms of bash start-up on a loaded host stay within the margins.
    expect(reached(3_000, ['1', '2.5', '2.999', '4.5', '5', '10'])).toEqual(['yes', 'yes', 'yes', 'no', 'no', 'no']);
  });

  it('reads leading zeros as decimal (bash would take "010" for octal 8) and counts no leading zero as a digit, and a fraction of many digits', () => {
    expect(reached(9_000, ['010', '08', '8.9999999', '0011.5', '0000000000005'])).toEqual(['no', 'yes', 'yes', 'no', 'yes']);
  });

  it('om_stop_due hears the deadline at the first look after it, not at every tenth (a capture attached, --duration 1)', () => {
    // The tracer stands in as this shell's own process (alive); the start is now; two looks 1.2 s apart (the first
    // within a second of the start on a loaded host, the second after the deadline whatever the load).
    const script = `. "$1"; OM_TRACER_PID=$$; om_identify "$$" OM_TRACER_ST; OM_START_NS=$(date +%s%N); OM_DURATION=1
      om_stop_due && echo "first: stop" || echo "first: go on"
      sleep 1.2
      om_stop_due && echo "second: stop $OM_STOP_REASON" || echo "second: go on"`;
    const out = execFileSync('bash', ['-c', script, 'harness', LIB], { encoding: 'utf8' });
    expect(out).toBe('first: go on\nsecond: stop duration\n');
  });

  it('never ends a capture on a number too large to count, nor on anything but digits', () => {
    expect(reached(60_000, ['99999999999999999999', '1e3', '', '-1', '1.'])).toEqual(['no', 'no', 'no', 'no', 'no']);
  });
});
