// The names the capture looks up at the end (om_backend_mapped_names in
// scripts/capture-strace.sh, mapped-gone.txt): a mapped name under a
// directory renamed since is looked up under the directory's new name (review
// 53, S8), also when strace cut the rename at its entry ("<unfinished ...>":
// another thread's call printed between; code review 63, F5), through a chain
// of renames, and with each rename a step, not a walk of every name (F6).
// The lines are strace 6.1's, as the capture runs it (-f -ttt -T -yy -Y).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { workspace } from './scenarios/harness.js';
import { REPO } from './support/tools.js';

/** What om_backend_mapped_names prints for a trace of `lines`. */
function mappedNames(lines: string[]): string[] {
  const dir = workspace('mapped-names');
  writeFileSync(join(dir, 'trace.txt'), `${lines.join('\n')}\n`);
  const script = join(REPO, 'scripts', 'capture-strace.sh');
  const lib = join(REPO, 'scripts', 'bundle-lib.sh');
  // bundle-lib.sh gives the awk functions both scripts share (OM_AWK_PATHS), and clears OM_D.
  const run = spawnSync('bash', ['-c', `source "$2"; OM_D="$3"; source <(sed -n '/^om_backend_mapped_names()/,/^}/p' "$1"); om_backend_mapped_names`, 'bash', script, lib, dir], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split('\n').filter(Boolean);
}

const MAPPED = '1234<java> 1796563691.280008 mmap(NULL, 10485760, PROT_READ|PROT_WRITE, MAP_SHARED, 93</d/data/topic-0/00000000000000000000.index>, 0) = 0x7f0000000000 <0.000010>';

it('a directory rename strace cut at its entry is joined with its resume', () => {
  expect(
    mappedNames([
      MAPPED,
      '1240<kafka-scheduler> 1796563691.280100 rename("/d/data/topic-0", "/d/data/topic-0.abc-delete" <unfinished ...>',
      '1234<java> 1796563691.280120 futex(0x7f0000001000, FUTEX_WAKE_PRIVATE, 1) = 0 <0.000005>',
      '1240<kafka-scheduler> 1796563691.280140 <... rename resumed>) = 0 <0.000030>',
    ]),
  ).toContain('/d/data/topic-0.abc-delete/00000000000000000000.index');
});

it('a chain of renames, relative names under dirfds and an exchange give each mapped name its last name', () => {
  const names = mappedNames([
    MAPPED,
    '1240<kafka-scheduler> 1796563691.3 renameat2(AT_FDCWD</d/data>, "topic-0", AT_FDCWD</d/data>, "topic-0.abc-delete", RENAME_NOREPLACE) = 0 <0.000010>',
    '1240<kafka-scheduler> 1796563691.4 rename("/d/data/topic-0.abc-delete", "/d/trash/t0") = 0 <0.000010>',
    '1240<kafka-scheduler> 1796563691.5 renameat2(AT_FDCWD</d>, "trash", AT_FDCWD</d>, "other", RENAME_EXCHANGE) = 0 <0.000010>',
  ]);
  expect(names).toContain('/d/other/t0/00000000000000000000.index');
  // A name it had on the way is no longer one: not looked up.
  expect(names).not.toContain('/d/trash/t0/00000000000000000000.index');
});

it('200 renames of a directory of 20,000 mapped names print each name twice, not once a rename', () => {
  const lines = Array.from({ length: 20_000 }, (_, k) => MAPPED.replace('00000000000000000000', String(k).padStart(20, '0')));
  for (let k = 0; k < 200; k++) lines.push(`1240<kafka-scheduler> 1796563691.5 rename("/d/data/topic-${k}", "/d/data/topic-${k + 1}") = 0 <0.000010>`);
  const names = mappedNames(lines);
  // The 20,000 names mapped, the 200 renames' new names, and the 20,000 names under the last.
  expect(names).toHaveLength(40_200);
  expect(names).toContain('/d/data/topic-200/00000000000000019999.index');
});
