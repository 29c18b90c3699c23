// Work linear in the renames (issue #14): a rename of a path the engine does
// not know may be a directory's (Kafka renames a deleted partition's directory
// to "…-delete", then unlinks the files in it), and the names under it move.
// They were found by scanning every known name, for every such rename. Counted,
// not timed: the names visited (Files.nameSteps).
import { describe, expect, it } from 'vitest';
import { Counters } from '../src/engine/counters.js';
import { FindingLog } from '../src/engine/finding-log.js';
import { Files } from '../src/engine/files.js';
import { RunningImages } from '../src/engine/images.js';
import type { Task } from '../src/engine/tasks.js';
import type { RenameEvent } from '../src/parse/events.js';

const task = {} as Task;

function rename(from: string, to: string, line: number): RenameEvent {
  return {
    kind: 'rename',
    oldDir: { fd: 'cwd' },
    oldPath: from,
    newDir: { fd: 'cwd' },
    newPath: to,
    exchange: false,
    place: { file: 'trace.txt', line },
    time: null,
    seconds: null,
    tid: 1,
    raw: `rename("${from}", "${to}") = 0`,
  };
}

/** `partitions` directories of two index files each, a checkpoint renamed over its old version per partition, then every directory renamed for deletion. */
function renameSteps(partitions: number): { steps: number; files: Files } {
  const files = new Files(new Counters(), new FindingLog(), new RunningImages());
  for (let k = 0; k < partitions; k++) {
    files.opened(`/kafka/topic-${k}/00000000000000000000.index`, undefined, undefined);
    files.opened(`/kafka/topic-${k}/00000000000000000000.timeindex`, undefined, undefined);
  }
  let line = 0;
  for (let k = 0; k < partitions; k++) files.rename(task, rename(`/kafka/replication-offset-checkpoint.tmp`, `/kafka/replication-offset-checkpoint`, ++line));
  for (let k = 0; k < partitions; k++) files.rename(task, rename(`/kafka/topic-${k}`, `/kafka/topic-${k}.1f2e-delete`, ++line));
  return { steps: files.nameSteps, files };
}

describe('a rename of a path the engine does not know looks up the names under it', () => {
  const N = 2000;

  it('twice the partitions, at most 2.2 times the names visited; the names under each directory moved', () => {
    const once = renameSteps(N);
    const twice = renameSteps(2 * N);
    // The count is live: each directory's two files are visited when it is renamed.
    expect(once.steps).toBeGreaterThanOrEqual(2 * N);
    expect(twice.steps / once.steps).toBeLessThanOrEqual(2.2);
    const moved = twice.files.named(`/kafka/topic-7.1f2e-delete/00000000000000000000.index`);
    expect(moved?.history).toEqual(['/kafka/topic-7/00000000000000000000.index', '/kafka/topic-7.1f2e-delete/00000000000000000000.index']);
    expect(twice.files.named('/kafka/topic-7/00000000000000000000.index')).toBeUndefined();
    expect(twice.files.named(`/kafka/topic-${2 * N - 1}.1f2e-delete/00000000000000000000.timeindex`)).toBeDefined();
  });
});
