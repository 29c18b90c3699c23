// rename, link and symlink print two records (`rename.old` then `rename`, with
// the same tid and ns): two paths do not fit one printf under the 512-byte BPF
// stack.
// Here the two become one event. Pure.
import { FieldReader, parseFields } from './bpftrace-fields.js';
import { dirRef, numberAt, scanRecordHead, type BpftraceRecord, type Half, type SecondRecord } from './bpftrace-line.js';
import { AT_SYMLINK_FOLLOW, RENAME_EXCHANGE, RENAME_NOREPLACE, type EventBase, type LinkEvent, type RenameEvent, type SymlinkEvent, type TraceEvent } from './events.js';

/** Joins a rename/link/symlink half with its second record (same tid and ns) into one event. */
export function joinHalf(half: Half, second: SecondRecord): BpftraceRecord {
  const bad = (reason: string): BpftraceRecord => ({ type: 'diagnostic', diagnostic: { place: second.place, text: second.text, reason } });
  if (half.tid !== second.tid || half.ns !== second.ns || half.kind !== `${second.kind}.old`) {
    return bad(`${second.kind} record without its ${second.kind}.old record (same tid and ns)`);
  }
  // Its head was read when it was parsed: it has one.
  const head = scanRecordHead(second.text)!;
  const tgid = numberAt(second.text, head.tgidStart, head.tidStart - 1);
  const cpu = numberAt(second.text, head.cpuStart, head.tgidStart - 1);
  const rest = second.text.slice(head.end);
  const pathAt = rest.indexOf(' path=');
  const fields = pathAt < 0 ? null : parseFields(rest.slice(0, pathAt));
  if (fields === null) return bad(`unreadable ${second.kind} record`);
  const f = new FieldReader(fields);
  const ret = f.int('ret');
  const base: EventBase = {
    place: half.place,
    time: half.ns,
    seconds: Number(half.ns) / 1e9,
    tid: half.tid,
    tgid,
    raw: `${half.raw}\n${second.text}`,
    lines: [...half.lines, ...second.lines],
  };
  const newDir = dirRef(f.int('newdfd'));
  const newPath = rest.slice(pathAt + 6);
  if (second.kind === 'symlink') {
    const symlink = Object.assign(base, { kind: 'symlink', target: half.path, dir: newDir, path: newPath } satisfies Omit<SymlinkEvent, keyof EventBase>);
    if (f.missing.length > 0) return bad(`symlink: missing or bad ${f.missing.join(', ')}`);
    if (ret < 0) return { type: 'ignored', reason: `symlink failed (${ret})` };
    // Ordered by its entry, as a rename is: an open through the new name on another CPU can return before it does.
    return { type: 'event', event: symlink, key: f.optionalBig('ens') ?? BigInt(half.ns), cpu, printed: BigInt(half.ns) };
  }
  const oldDir = dirRef(f.int('olddfd'));
  const flags = f.int('flags');
  // The header, then the call's fields, as `{ ...base, … }` would have them; not a spread, which V8 copies slowly (headed in bpftrace-line.ts).
  let event: TraceEvent;
  if (second.kind === 'rename') {
    event = Object.assign(base, { kind: 'rename', oldDir, oldPath: half.path, newDir, newPath, exchange: (flags & RENAME_EXCHANGE) !== 0 } satisfies Omit<RenameEvent, keyof EventBase>);
    if ((flags & RENAME_NOREPLACE) !== 0) (event as RenameEvent).noReplace = true;
  } else {
    const link: LinkEvent = Object.assign(base, { kind: 'link', oldDir, oldPath: half.path, newDir, newPath } satisfies Omit<LinkEvent, keyof EventBase>);
    if ((flags & AT_SYMLINK_FOLLOW) !== 0) link.followsSymlink = true;
    event = link;
  }
  if (f.missing.length > 0) return bad(`${second.kind}: missing or bad ${f.missing.join(', ')}`);
  if (ret < 0) return { type: 'ignored', reason: `${second.kind} failed (${ret})` };
  // A rename is ordered by its entry (ens), as the name may change before it returns; captures before it have none.
  const entered = second.kind === 'rename' ? f.optionalBig('ens') : undefined;
  const printed = BigInt(half.ns);
  return { type: 'event', event, key: entered ?? printed, cpu, printed };
}

/** A second record whose half never came. */
export function missingHalf(second: SecondRecord): BpftraceRecord {
  return {
    type: 'diagnostic',
    diagnostic: { place: second.place, text: second.text, reason: `${second.kind} record without its ${second.kind}.old record (same tid and ns)` },
  };
}
