// close_range in steps linear in the opens (review 20, R20-3): a process
// holding 20,000 fds that called close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)
// 20,000 times had each call visit every fd, and so did a close_range over a
// few numbers that hold no fd (3.6 MB of trace, 67 s). The kernel does
// either for next to nothing, so a program may. The engine counts the fd
// numbers close_range looks at (Engine.fdSteps): twice the opens and calls
// must cost at most about twice the steps. Counted, not timed.
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/engine.js';
import { applyLines } from './support/fork-trace.js';

/** One process: `n` opens of files, then `n` calls of `call`, then its exit; the steps close_range took. */
function steps(n: number, call: string): { steps: number; engine: Engine } {
  const lines: string[] = ['100 1700000000.000000 execve("/bin/x", ["x"], 0x7ffc /* 1 var */) = 0'];
  for (let i = 0; i < n; i++) lines.push(`100 1700000001.000000 openat(AT_FDCWD, "/f${i}", O_RDONLY) = ${i + 3}`);
  for (let i = 0; i < n; i++) lines.push(`100 1700000002.000000 ${call} = 0`);
  lines.push('100 1700000003.000000 exit_group(0) = ?', '100 1700000003.000000 +++ exited with 0 +++');
  const engine = new Engine();
  applyLines(engine, lines);
  engine.finish();
  return { steps: engine.fdSteps(), engine };
}

describe('close_range looks at each fd about once, however often it is called', () => {
  const N = 3000;

  it('CLOSE_RANGE_CLOEXEC over every fd, again and again: twice the fds and calls, at most 2.2 times the steps', () => {
    const call = 'close_range(3, 4294967295, CLOSE_RANGE_CLOEXEC)';
    const once = steps(N, call);
    const twice = steps(2 * N, call);
    // The first call marks every fd close-on-exec: at least one step each.
    expect(once.steps).toBeGreaterThanOrEqual(N);
    expect(twice.steps / once.steps).toBeLessThanOrEqual(2.2);
  });

  it('a close over two numbers that hold no fd: twice the fds and calls, at most 2.2 times the steps', () => {
    const call = 'close_range(100000, 100001, 0)';
    const once = steps(N, call);
    const twice = steps(2 * N, call);
    expect(once.steps).toBeGreaterThanOrEqual(N);
    expect(twice.steps / once.steps).toBeLessThanOrEqual(2.2);
  });

  it('the fds marked close-on-exec are closed by an execve, the others kept', () => {
    const lines = [
      '100 1700000000.000000 execve("/bin/x", ["x"], 0x7ffc /* 1 var */) = 0',
      '100 1700000001.000000 openat(AT_FDCWD, "/kept", O_RDWR) = 3',
      '100 1700000001.000000 openat(AT_FDCWD, "/marked", O_RDWR) = 4',
      '100 1700000001.000000 close_range(4, 4294967295, CLOSE_RANGE_CLOEXEC) = 0',
      '100 1700000002.000000 execve("/bin/y", ["y"], 0x7ffc /* 1 var */) = 0',
      '100 1700000003.000000 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x7f0000001000',
      '100 1700000003.000000 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 4, 0) = 0x7f0000002000',
      '100 1700000004.000000 unlink("/kept") = 0',
      '100 1700000004.000000 unlink("/marked") = 0',
    ];
    const engine = new Engine();
    applyLines(engine, lines);
    const changes = engine.finish();
    const orphaned = changes.map((change) => change.finding).filter((finding) => finding.kind === 'unlinked-while-mapped');
    // fd 3 survived the execve and still names /kept; fd 4 was closed by it, so the mmap of 4 names no known file.
    expect(orphaned.map((finding) => finding.path)).toEqual(['/kept']);
  });
});
