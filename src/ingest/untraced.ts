// Whether a capture bundle holds anything of its process. Apart from
// bundle.ts, which reads bundles: the commands' registration (refuseEmptyInputs)
// and every view's headline use it, and must not load the reader.
import type { BundleMeta } from './bundle.js';

/**
 * Why a bundle proves nothing about its process, or null when it holds
 * something of it. The capture says so itself when the process exited before
 * the tracer attached (exitReason "target-exited-before-attach"; bpftrace
 * compiles for 8-40 s first). A bundle of an attached capture with no event
 * and neither maps snapshot holds nothing of its process either, whatever
 * its meta.json says (a capture from before that exitReason existed, or one
 * stopped before the attach): reported as clean, it would read as a process
 * checked and found sound. One rule for the analysis (a warning, and a
 * refusal where a verdict is asked for) and for every view's headline.
 */
export function untracedTarget(meta: BundleMeta, events: number): string | null {
  if (meta.pid === undefined) return null;
  const tracer = meta.backend ?? 'the tracer';
  if (meta.exitReason === 'target-exited-before-attach') return `pid ${meta.pid} exited before ${tracer} attached to it: nothing of it was traced`;
  // null, as the capture writes it when it has no snapshot (a hand-made meta.json without the fields is not judged).
  if (meta.mode === 'attached' && events === 0 && meta.mapCountStart === null && meta.mapCountEnd === null)
    return `nothing of pid ${meta.pid} was traced: the bundle holds no event and no /proc/PID/maps snapshot of it (did it exit before ${tracer} attached?)`;
  return null;
}
