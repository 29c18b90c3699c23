// One time value (issue #10, item 6, the view half): the TUI's ages come from
// the seconds the parser computed, never from time text, and a live capture's
// still-mapped findings keep ageing while the traced process is idle.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/engine.js';
import type { At, Finding } from '../src/engine/findings.js';
import { BpftraceReader } from '../src/parse/bpftrace.js';
import { decidedAt, secondsOf } from '../src/report/finding-view.js';
import { engineFeed } from '../src/tui/feed.js';
import { ageLabel, callText } from '../src/tui/format.js';
import { TuiStore } from '../src/tui/store.js';
import { readLines } from './helpers.js';
import { REPO } from './tools.js';
import { handMadeFinding } from './support/finding.js';

/** A place as the engine gives it: bpftrace's time text and the parser's seconds. */
function at(line: number, time: string, seconds: number): At {
  return Object.assign({ file: 't', line, time, tid: 7 }, { seconds });
}

function orphan(id: number, unlinkedAt: At, overrides: Partial<Finding> = {}): Finding {
  return handMadeFinding(`F${id}`, `/d/${id}.bin`, { pid: 7, address: '0x7f0000000000', unlinkedAt, ...overrides });
}

/** The AGE/DELAY cell of a row (the first by default), as the findings table draws it. */
function ageOf(store: TuiStore, id?: string): string {
  const snapshot = store.getSnapshot();
  const row = id === undefined ? snapshot.rows[0]! : snapshot.rows.find((r) => r.id === id)!;
  return ageLabel(row, snapshot.ageOf(row));
}

class FakeClock {
  ms = 1_000_000;
  now = (): number => this.ms;
}

describe('ages in the findings table', () => {
  it('shows a 5 ms bpftrace age as 5.0 ms, whatever its nanosecond stamps look like', () => {
    // 1498766880321 ns and 5 ms later, as bpftrace stamps them (CLOCK_BOOTTIME).
    const store = new TuiStore({ source: { kind: 'file', names: ['t'] }, throttleMs: 0 });
    const finding = orphan(1, at(10, '1498766880321', 1498.766880321));
    store.change({ type: 'decided', finding });
    store.change({ type: 'decided', finding: orphan(2, at(20, '1498771880321', 1498.771880321)) });
    store.flush();
    expect(ageOf(store)).toBe('5.0 ms');
  });

  it('shows no age rather than one made from time text when the place carries no seconds', () => {
    const store = new TuiStore({ source: { kind: 'file', names: ['t'] }, throttleMs: 0 });
    const textOnly = (line: number, time: string): At => ({ file: 't', line, time, tid: 7 });
    store.change({ type: 'decided', finding: orphan(1, textOnly(10, '1498766880321')) });
    store.change({ type: 'decided', finding: orphan(2, textOnly(20, '1498771880321')) });
    store.flush();
    const snapshot = store.getSnapshot();
    expect(snapshot.traceNow).toBeNull();
    expect(ageOf(store)).toBe('');
  });

  it('shows a resolved finding its delay, not an age', () => {
    expect(ageLabel(orphan(1, at(1, '+0.000100', 0.0001), { resolution: 'unmapped', delayMs: 16.4 }), 99)).toBe('16.4 ms');
    expect(ageLabel(orphan(1, at(1, '+0.000100', 0.0001), { resolution: 'process-exited', delayMs: null }), 99)).toBe('');
    expect(ageLabel(orphan(1, at(1, '+0.000100', 0.0001)), undefined)).toBe('');
  });

  it("ages the real bpftrace capture's first orphan by its own nanoseconds at the next unlink", () => {
    const text = readFileSync(join(REPO, 'test', 'fixtures', 'bpftrace', 'python-segments.txt'), 'utf8');
    const lines = text.split('\n');
    const { events } = readLines(new BpftraceReader('trace.txt'), text);
    const engine = new Engine();
    const store = new TuiStore({ source: { kind: 'file', names: ['trace.txt'] }, throttleMs: 0 });
    const feed = engineFeed(store);
    const orphans: Finding[] = [];
    for (const event of events) {
      for (const change of engine.apply(event)) {
        feed.onChange(change, engine);
        if (change.type === 'decided' && change.finding.kind === 'unlinked-while-mapped') orphans.push(change.finding);
      }
      if (orphans.length === 2) break;
    }
    store.flush();
    const [first, second] = orphans as [Finding, Finding];
    // The stamps as bpftrace printed them on the two unlink lines.
    const ns = (finding: Finding) => BigInt(lines[finding.unlinkedAt!.line - 1]!.split(' ')[0]!);
    const ms = Number(ns(second) - ns(first)) / 1e6;
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(1000);
    const age = ageOf(store, first.id);
    if (secondsOf(decidedAt(first)) === null) {
      // The engine does not pass the parser's seconds on to At yet: no age, never a made-up one.
      expect(age).toBe('');
    } else {
      expect(age).toBe(ms < 1 ? `${ms.toFixed(3)} ms` : `${ms.toFixed(1)} ms`);
    }
  });
});

describe('ages while a live capture is idle', () => {
  function liveStore(clock: FakeClock): TuiStore {
    return new TuiStore({ source: { kind: 'live', pid: 7, command: 'java', backend: 'strace' }, throttleMs: 0, clock: clock.now });
  }

  it('keeps ageing a still-mapped finding on the wall clock when no event arrives', () => {
    const clock = new FakeClock();
    const store = liveStore(clock);
    store.change({ type: 'decided', finding: orphan(1, at(10, '10:00:00.000000', 36000)) });
    store.flush();
    expect(ageOf(store)).toBe('0.000 ms');
    clock.ms += 90_000;
    store.tick();
    store.flush();
    expect(ageOf(store)).toBe('90.0 s');
    clock.ms += 60_000;
    store.tick();
    store.flush();
    expect(ageOf(store)).toBe('2.5 min');
  });

  it('never moves back when an event stamped a little earlier than the wall estimate arrives', () => {
    const clock = new FakeClock();
    const store = liveStore(clock);
    store.change({ type: 'decided', finding: orphan(1, at(10, '10:00:00.000000', 36000)) });
    clock.ms += 10_000;
    // Read 10 s later, but it happened 9.5 s after the first (the reader lags the tracer).
    store.change({ type: 'decided', finding: orphan(2, at(20, '10:00:09.500000', 36009.5)) });
    store.flush();
    expect(ageOf(store)).toBe('10.0 s');
  });

  it('stops the clock when the capture ends, and a paused view stops its ages', () => {
    const clock = new FakeClock();
    const store = liveStore(clock);
    store.change({ type: 'decided', finding: orphan(1, at(10, '10:00:00.000000', 36000)) });
    clock.ms += 5_000;
    store.setPaused(true);
    clock.ms += 5_000;
    store.tick();
    store.flush();
    expect(ageOf(store)).toBe('5.0 s');
    store.setPaused(false);
    expect(ageOf(store)).toBe('10.0 s');
    store.finish();
    clock.ms += 60_000;
    store.tick();
    store.flush();
    expect(store.getSnapshot().phase).toBe('ended');
    expect(ageOf(store)).toBe('10.0 s');
  });

  it('ages on the wall clock from when the finding arrived when the trace carries no seconds', () => {
    const clock = new FakeClock();
    const store = liveStore(clock);
    store.change({ type: 'decided', finding: orphan(1, { file: 't', line: 10, time: '+0.000100', tid: 7 }) });
    clock.ms += 3_000;
    store.change({ type: 'decided', finding: orphan(2, { file: 't', line: 20, time: '+3.000100', tid: 7 }) });
    clock.ms += 42_000;
    store.tick();
    store.flush();
    expect(ageOf(store, 'F1')).toBe('45.0 s');
    expect(ageOf(store, 'F2')).toBe('42.0 s');
    expect(store.cycleSort()).toBe('age');
    expect(store.getSnapshot().rows.map((row) => row.id)).toEqual(['F1', 'F2']);
    store.finish();
    clock.ms += 60_000;
    store.tick();
    store.flush();
    expect(ageOf(store, 'F1')).toBe('45.0 s');
  });

  it('does not run the clock for a file being read', () => {
    const clock = new FakeClock();
    const store = new TuiStore({ source: { kind: 'file', names: ['t'] }, throttleMs: 0, clock: clock.now });
    store.change({ type: 'decided', finding: orphan(1, at(10, '10:00:00.000000', 36000)) });
    clock.ms += 60_000;
    store.tick();
    store.flush();
    expect(ageOf(store)).toBe('0.000 ms');
  });
});

describe("the detail pane's call text", () => {
  it('shows a bpftrace record without its nanoseconds, cpu and ids, which have columns of their own', () => {
    const line = '1498786587098 0 26514 26581 unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=/tmp/omw/data dir/00000000.index.deleted';
    expect(callText(line)).toBe('unlink sys=unlink ret=0 dfd=-100 flags=0x0 path=/tmp/omw/data dir/00000000.index.deleted');
    expect(callText(line)).not.toContain('1498786587098');
  });

  it("still cuts strace's pid and timestamp", () => {
    expect(callText('7619  1795606233.536518 unlink("/tmp/a.deleted") = 0 <0.000049>')).toBe('unlink("/tmp/a.deleted") = 0 <0.000049>');
    expect(callText('[pid  7619] 17:41:43.078823 munmap(0x7f00, 4096) = 0')).toBe('munmap(0x7f00, 4096) = 0');
  });
});

describe('elapsed time in the header', () => {
  it('stops for a file while the view is paused and once it is read to the end; runs on for a live session while paused', () => {
    const clock = new FakeClock();
    const file = new TuiStore({ source: { kind: 'file', names: ['t'] }, throttleMs: 0, clock: clock.now });
    clock.ms += 2_000;
    file.setPaused(true);
    clock.ms += 5_000;
    file.tick();
    file.flush();
    expect(file.getSnapshot().elapsedMs).toBe(2_000);
    file.setPaused(false);
    expect(file.getSnapshot().elapsedMs).toBe(7_000);
    file.finish();
    clock.ms += 60_000;
    file.tick();
    file.flush();
    expect(file.getSnapshot().elapsedMs).toBe(7_000);

    const live = new TuiStore({ source: { kind: 'live', pid: 7, command: 'java', backend: 'strace' }, throttleMs: 0, clock: clock.now });
    live.setPaused(true);
    clock.ms += 4_000;
    live.tick();
    live.flush();
    expect(live.getSnapshot().elapsedMs).toBe(4_000);
    live.finish();
    clock.ms += 4_000;
    live.tick();
    live.flush();
    expect(live.getSnapshot().elapsedMs).toBe(4_000);
  });
});
