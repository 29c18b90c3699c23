// Whether a capture bundle holds anything of its process. Apart from
// bundle.ts, which reads bundles: the commands' registration (refuseEmptyInputs)
// and every view's headline use it, and must not load the reader.
import type { BundleMeta } from './bundle.js';

/**
 * Why a bundle proves nothing about its process, or null when it holds
 * something of it (any event: contradiction names a meta.json that says
 * otherwise). The capture says so itself when the process exited before
 * the tracer attached (exitReason "target-exited-before-attach"; bpftrace
 * compiles for 8-40 s first), and when the tracer never attached for another
 * reason ("attached": false: the capture was stopped while bpftrace compiled,
 * or the tracer could not attach, say to a process its owner's own strace
 * held). Bundles of older captures say neither, and are judged by what they
 * hold: a tracer that failed or timed out before it attached traced nothing
 * ("tracer-failed", "attach-timeout", though they hold both maps snapshots);
 * nor did an attached capture with no event and neither maps snapshot; nor a
 * bpftrace whose trace has no line at all, not even the "Attaching N
 * probes..." it prints as it attaches (`lines`, where the caller counted
 * them). Reported as clean, any of them would read as a process checked and
 * found sound. An attached capture with an empty trace is not one of them:
 * a process may make no traced call while it is watched. One rule for the
 * analysis (a warning, and a refusal where a verdict is asked for) and for
 * every view's headline.
 */
export function untracedTarget(meta: BundleMeta, events: number, lines?: number): string | null {
  // A trace with events was traced, whatever meta.json says: a bundle that says otherwise is not believed over
  // what it holds (a hostile meta.json that said "attached": false hid two errors behind a refusal: review 7).
  if (events > 0) return null;
  const tracer = meta.backend ?? 'the tracer';
  const who = meta.pid !== undefined ? `pid ${meta.pid}` : meta.mode === 'launched' ? 'the command' : 'its process';
  if (meta.exitReason === 'target-exited-before-attach' && meta.pid !== undefined) return `pid ${meta.pid} exited before ${tracer} attached to it: nothing of it was traced`;
  // Written by captures since review 5 (absent from older bundles).
  const { attached } = meta;
  if (attached === true) return null;
  if (meta.exitReason === 'tracer-failed') return `${tracer} failed before it attached to ${who}: nothing of it was traced`;
  if (meta.exitReason === 'attach-timeout') return `${tracer} did not attach to ${who} in time: nothing of it was traced`;
  if (attached === false) return `the capture was stopped before ${tracer} attached to ${who}: nothing of it was traced`;
  // null, as the capture writes it when it has no snapshot (a hand-made meta.json without the fields is not judged).
  if (meta.pid !== undefined && meta.mode === 'attached' && events === 0 && meta.mapCountStart === null && meta.mapCountEnd === null)
    return `nothing of pid ${meta.pid} was traced: the bundle holds no event and no /proc/PID/maps snapshot of it (did it exit before ${tracer} attached?)`;
  if (meta.backend === 'bpftrace' && lines === 0)
    return `bpftrace never attached to ${who}: its trace holds no line, not even the one bpftrace prints as it attaches (was the capture stopped while bpftrace compiled its probes?)`;
  return null;
}

/**
 * What a bundle's meta.json says that its trace contradicts, or null: it
 * says nothing was traced (the tracer never attached, failed, timed out, or
 * the process exited first), yet the trace holds `events` events. The
 * events are analysed as any trace's are (untracedTarget), and this is said
 * in a warning: such a bundle was edited, or its process's pid was reused.
 */
export function contradiction(meta: BundleMeta, events: number): string | null {
  if (events === 0) return null;
  const says = untracedBy(meta);
  return says === null
    ? null
    : `meta.json says ${says}, so that nothing was traced, but the trace holds ${events} events: they are analysed as they stand ` +
        '(a tracer that attached late or died after writing them, a pid reused by another process, or an edited bundle)';
}

/** What in meta.json says the capture traced nothing, whatever the trace holds: `"attached": false` or such an exitReason; null if nothing does. */
export function untracedBy(meta: BundleMeta): string | null {
  if (meta.exitReason === 'target-exited-before-attach' || meta.exitReason === 'tracer-failed' || meta.exitReason === 'attach-timeout') return `"exitReason": "${meta.exitReason}"`;
  return meta.attached === false ? '"attached": false' : null;
}

/**
 * Why a trace that is not a bundle proves nothing, or null: it has lines but
 * none is a call orphanmap follows (`strace -p` of a process that only slept
 * while another removed the files it maps). "No mapping outlived its file"
 * would read as mappings checked and found sound; with a bundle, maps-start
 * and maps-end still say something (untracedTarget decides there).
 */
export function noEventTraced(fileEvents: number, lines: number): string | null {
  if (fileEvents > 0) return null;
  if (lines === 0) return 'the input holds no trace line: nothing was traced';
  return `the trace holds none of the calls orphanmap follows on files and mappings (${lines.toLocaleString('en-US')} ${lines === 1 ? 'line' : 'lines'}, 0 such events): no mapping was traced`;
}
