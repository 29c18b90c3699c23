// Lines of an orphanmap.bt capture that are not records: the script's header,
// and what bpftrace prints itself (Attaching, the probes-attached notice, Lost).
// Pure.
import { parseFields } from './bpftrace-fields.js';
import type { BpftraceRecord, Marker } from './bpftrace-line.js';
import type { Place } from './events.js';
import { TID_RANGE_REASON, tidFromDigits } from './strace-line.js';

export const ATTACHING = /^Attaching (\d+) probes?\.\.\.$/;
export const LOST = /^Lost (\d+) events$/;

export function parseMarkerLine(text: string, place: Place, bad: (reason: string) => BpftraceRecord): BpftraceRecord {
  // orphanmap-bt 1 begin ns=1498737093204 cpu=1 self=26011 root=0
  if (text.startsWith('orphanmap-bt ')) {
    const parts = text.split(' ');
    const version = Number(parts[1]);
    const fields = parseFields(parts.slice(3).join(' '));
    if (parts[2] !== 'begin' || !Number.isInteger(version) || fields === null) return bad('unreadable orphanmap-bt header');
    const marker: Marker = { kind: 'header', place, version };
    const root = fields.get('root');
    const self = fields.get('self');
    const ns = fields.get('ns');
    // root=0 is the -c child, named by its first exec; any other root, and self, are process ids.
    const rootId = root === undefined || root === '0' ? 0 : tidFromDigits(root);
    const selfId = self === undefined ? 0 : tidFromDigits(self);
    if (Number.isNaN(rootId) || Number.isNaN(selfId)) return bad(`orphanmap-bt header: ${TID_RANGE_REASON}`);
    if (root !== undefined) marker.root = rootId;
    if (self !== undefined) marker.self = selfId;
    if (ns !== undefined) marker.ns = ns;
    // stopper=: headers of captures made before it was printed have none.
    const stopper = fields.get('stopper');
    if (stopper !== undefined) {
      const stopperId = stopper === '0' ? 0 : tidFromDigits(stopper);
      if (Number.isNaN(stopperId)) return bad(`orphanmap-bt header: ${TID_RANGE_REASON}`);
      marker.stopper = stopperId;
    }
    const cpus = fields.get('cpus');
    if (cpus !== undefined && /^\d{1,5}$/.test(cpus)) marker.cpus = Number(cpus);
    return { type: 'marker', marker };
  }
  const attaching = ATTACHING.exec(text);
  if (attaching) return { type: 'marker', marker: { kind: 'attaching', place, probes: Number(attaching[1]) } };
  if (text === '__BPFTRACE_NOTIFY_PROBES_ATTACHED') return { type: 'marker', marker: { kind: 'attached', place } };
  const lost = LOST.exec(text);
  if (lost) {
    // No CPU, pid or time: the reader places it after everything seen so far.
    return {
      type: 'event',
      key: null,
      cpu: -1,
      event: { kind: 'lost', count: Number(lost[1]), place, time: null, seconds: null, tid: 0, raw: text },
    };
  }
  return bad('not an orphanmap.bt record');
}
