// Engine → store: what the live capture code and `analyze --tui` both call.
// No ink here, so tests and the live code can feed a store without a terminal.
import type { Engine, EngineChange, EngineStats } from '../engine/engine.js';
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
 * engine.stats() walks every mapping of every address space. Each change
 * also draws a point of the chart, and calling stats() at every change is
 * exact but quadratic: with 8,000 orphans held at once, each of 30,000
 * changes walked 16,000 mappings (87 s of a 2-minute read). So a change
 * samples the engine while it holds fewer than EXACT_MAPPINGS mappings (a
 * walk of a few microseconds: every bundled trace, every change exact), and
 * beyond that only when the time since the last sample is at least
 * STATS_BUDGET times what that sample took (at most ~1/STATS_BUDGET of the
 * time goes to it); in between, a point repeats the last sample's totals, so
 * the chart is a step function sampled many times a second of reading, far
 * finer than its columns.
 */
const EXACT_MAPPINGS = 2000;
const STATS_BUDGET = 20;

export function engineFeed(store: TuiStore, keep: (finding: Finding) => boolean = () => true, now: () => number = () => performance.now()): EngineFeed {
  let deleted = { count: 0, bytes: 0 };
  let lastAt = -Infinity;
  let lastCost = 0;
  let mappings = 0;
  const sample = (engine: Engine): EngineStats => {
    const start = now();
    const stats = engine.stats();
    lastAt = now();
    lastCost = lastAt - start;
    mappings = stats.liveMappings + stats.deletedMappings;
    deleted = { count: stats.deletedMappings, bytes: stats.deletedBytes };
    store.counters({ events: stats.events, processes: stats.processes, liveMappings: stats.liveMappings, deletedMappings: stats.deletedMappings, deletedBytes: stats.deletedBytes });
    return stats;
  };
  return {
    onChange(change, engine) {
      if (mappings < EXACT_MAPPINGS || now() - lastAt >= lastCost * STATS_BUDGET) sample(engine);
      const at = change.type === 'decided' ? decidedAt(change.finding) : change.finding.resolvedAt;
      store.point(secondsOf(at), deleted.count, deleted.bytes);
      // The engine reads a finding's lines again when the view shows them: the store copies none (listed.ts).
      if (keep(change.finding)) store.change(change, engine);
    },
    sample(engine) {
      sample(engine);
    },
  };
}
