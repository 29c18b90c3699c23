// The keeper of an event's evidence goes to Engine.apply as an argument, not
// as a property ingest adds to the event: held by the wait for a clone, an
// event must still be kept by its own input's keeper, not by the keeper of
// the event that released it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/engine.js';
import { InputEvidence } from '../src/ingest/evidence.js';
import type { TraceEvent } from '../src/parse/events.js';
import { readStrace, trace } from './support/trace-text.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-apply-keeper-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** An input named `trace.txt` holding `lines`, its places told as the line source would. */
function input(lines: string[], tag: string): InputEvidence {
  const path = join(scratch, `${tag}.txt`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  const evidence = new InputEvidence('trace.txt', path);
  let offset = 0;
  lines.forEach((text, index) => {
    evidence.line(index + 1, text.length, offset, Buffer.byteLength(text));
    offset += Buffer.byteLength(text) + 1;
  });
  return evidence;
}

// Thread 200 shows up while its parent's fork is in flight: its open and mmap
// wait for the clone to return (tasks.ts, CloneWait), and are applied then.
const FORKED = trace`
  100 1.000000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x1 <unfinished ...>
  200 1.000001 openat(AT_FDCWD, "/d/a", O_RDWR|O_CREAT, 0644) = 3
  200 1.000002 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000
  100 1.000003 <... clone resumed>) = 200
  200 1.000004 close(3) = 0
  200 1.000005 unlink("/d/a") = 0
`;

describe('Engine.apply: the evidence keeper as an argument', () => {
  const lines = FORKED.split('\n');
  const { events } = readStrace(FORKED);

  it('keeps the same evidence as a keeper set on the event', () => {
    const source = input(lines, 'same');
    const byArgument = new Engine();
    for (const event of events) byArgument.apply(event, source);
    byArgument.finish();
    const byProperty = new Engine();
    for (const event of events) byProperty.apply({ ...event, keeper: source } as TraceEvent);
    byProperty.finish();
    expect(byArgument.findings()).toHaveLength(1);
    expect(byArgument.evidenceOf(byArgument.findings()[0]!)).toEqual(byProperty.evidenceOf(byProperty.findings()[0]!));
    expect(byArgument.evidenceOf(byArgument.findings()[0]!).map((line) => line.text)).toEqual([lines[1], lines[2], lines[4], lines[5]]);
  });

  it('an event held for a clone is kept by the keeper it came with, not the one current when it is applied', () => {
    // The same lines, the same lengths, told apart by case: which input a line is read back from shows.
    const first = input(lines, 'first');
    const second = input(
      lines.map((line) => line.toUpperCase()),
      'second',
    );
    const engine = new Engine();
    // The open and the mmap (after the clone's start) wait while the clone is in flight; the clone's return comes with the second keeper.
    events.forEach((event, index) => {
      engine.apply(event, index < 3 ? first : second);
      if (index === 2) expect(engine.held().waitingEvents).toBe(2);
    });
    engine.finish();
    const [finding] = engine.findings();
    expect(finding).toBeDefined();
    const texts = engine.evidenceOf(finding!).map((line) => line.text);
    expect(texts).toEqual([lines[1], lines[2], lines[4]!.toUpperCase(), lines[5]!.toUpperCase()]);
  });
});
