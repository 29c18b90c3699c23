// Engine → store: what the live capture code and `analyze --tui` both call.
// No ink here, so tests and the live code can feed a store without a terminal.
import type { Engine, EngineChange } from '../engine/engine.js';
import type { Finding } from '../engine/findings.js';
import { decidedAt, secondsOf } from '../report/finding-view.js';
import type { TuiStore } from './store.js';

export interface EngineFeed {
  /** One engine change (keep only what the user's --pid/--path filter keeps). */
  onChange(change: EngineChange, engine: Engine): void;
  /** Engine counters into the header; cheap enough to call a few times a second. */
  sample(engine: Engine): void;
}

/**
 * Each change also samples the engine's deleted-but-mapped totals for the
 * chart: those totals only move when a finding is decided or resolved, so
 * sampling at changes draws the curve exactly.
 */
export function engineFeed(store: TuiStore, keep: (finding: Finding) => boolean = () => true): EngineFeed {
  const sample = (engine: Engine) => {
    const stats = engine.stats();
    store.counters({ events: stats.events, processes: stats.processes, liveMappings: stats.liveMappings, deletedMappings: stats.deletedMappings, deletedBytes: stats.deletedBytes });
    return stats;
  };
  return {
    onChange(change, engine) {
      const stats = sample(engine);
      const at = change.type === 'decided' ? decidedAt(change.finding) : change.finding.resolvedAt;
      store.point(secondsOf(at), stats.deletedMappings, stats.deletedBytes);
      if (keep(change.finding)) store.change(change, engine.evidenceOf(change.finding));
    },
    sample,
  };
}

