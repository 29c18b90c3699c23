// `orphanmap live` swallows no error of the capture (issue #12): whatever ends
// the live view, the capture is stopped and its end awaited; the view's own
// error decides the exit status, and a different error of the capture after
// it is said on stderr instead of being dropped.
import { describe, expect, it } from 'vitest';
import type { CaptureResult } from '../src/capture/supervise.js';
import { withCapture } from '../src/commands/live.js';
import { CaptureError, InputError } from '../src/errors.js';

const RESULT: CaptureResult = { bundleDir: '/b', meta: { schema: 'orphanmap/bundle@1' } as CaptureResult['meta'], stopped: false };

/** A capture that settles as told, counting stop() calls; `done` is observed before it settles, as live does. */
function fakeCapture(outcome: { ok: true } | { ok: false; error: unknown }) {
  let stops = 0;
  const done = outcome.ok ? Promise.resolve(RESULT) : Promise.reject(outcome.error);
  done.catch(() => undefined); // settled before the body awaits it: not an unhandled rejection
  return { handle: { stop: () => void stops++, done }, stops: () => stops };
}

function collect(): { warn: (text: string) => void; said: string[] } {
  const said: string[] = [];
  return { warn: (text) => void said.push(text), said };
}

describe('withCapture', () => {
  it("returns the view's result once the capture has ended, stopping it (a no-op then)", async () => {
    const { handle, stops } = fakeCapture({ ok: true });
    const { warn, said } = collect();
    await expect(withCapture(handle, async () => 'shown', warn)).resolves.toBe('shown');
    expect(stops()).toBe(1);
    expect(said).toEqual([]);
  });

  it("throws the capture's error when the view ended without one", async () => {
    const failure = new CaptureError('capture with strace failed (exit status 1): strace: attach: ptrace(PTRACE_SEIZE, 42): Operation not permitted');
    const { handle } = fakeCapture({ ok: false, error: failure });
    const { warn, said } = collect();
    await expect(withCapture(handle, async () => 'shown', warn)).rejects.toBe(failure);
    expect(said).toEqual([]);
  });

  it("on the view's error: stops the capture, throws the view's error and says the capture's own, different one", async () => {
    const viewError = new InputError('not a syscall trace', '/b/trace.txt');
    const captureError = new CaptureError('capture with strace was killed by SIGKILL');
    const { handle, stops } = fakeCapture({ ok: false, error: captureError });
    const { warn, said } = collect();
    await expect(withCapture(handle, () => Promise.reject(viewError), warn)).rejects.toBe(viewError);
    expect(stops()).toBe(1);
    expect(said).toEqual(['orphanmap: warning: the capture failed too: capture with strace was killed by SIGKILL\n']);
  });

  it("says nothing twice when the view failed with the capture's own error", async () => {
    const captureError = new CaptureError('stopped the capture: reading /b/trace.txt as it was written failed: permission denied');
    const { handle } = fakeCapture({ ok: false, error: captureError });
    const { warn, said } = collect();
    await expect(withCapture(handle, () => handle.done, warn)).rejects.toBe(captureError);
    expect(said).toEqual([]);
  });

  it("on the view's error with a capture that ends cleanly: stops it and throws the view's error alone", async () => {
    const viewError = new Error('ink crashed');
    const { handle, stops } = fakeCapture({ ok: true });
    const { warn, said } = collect();
    await expect(withCapture(handle, () => Promise.reject(viewError), warn)).rejects.toBe(viewError);
    expect(stops()).toBe(1);
    expect(said).toEqual([]);
  });
});
