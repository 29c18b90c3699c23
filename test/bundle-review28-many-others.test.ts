// Review 28 (attack), F4: a bundle listing 70,000 maps-end.N.txt files (hard
// links to one junk file: a few KB in a tarball) took a minute and then
// crashed analyze with "internal error: Maximum call stack size exceeded":
// every file was read, each gave a warning, and the warnings were appended
// with a spread. A capture writes 1,000 such files at most; the analysis now
// reads the first 2,000 (those of processes the trace shows first), says how
// many it left out, and says the first 20 problems one by one, counting the
// rest.
//
// A real bundle (test/fixtures/review19-launched-quick) copied, with 130,000
// hard links to three junk files added beside it.
import { cpSync, linkSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const FIXTURE = join(REPO, 'test', 'fixtures', 'review19-launched-quick', 'bundle');
const FILES = 130_000;

it('a bundle with 130,000 maps-end.N.txt files: read up to a bound, its warnings bounded, the finding as without them', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'om-many-others-'));
  const bundle = join(scratch, 'bundle');
  cpSync(FIXTURE, bundle, { recursive: true });
  // A new file every 50,000 links: ext4 gives a file 65,000 at most.
  let junk = '';
  for (let pid = 100_000; pid < 100_000 + FILES; pid++) {
    const name = join(bundle, `maps-end.${pid}.txt`);
    if (pid % 50_000 === 0) writeFileSync((junk = name), 'junk line\n');
    else linkSync(junk, name);
  }

  const result = runCli(['analyze', bundle, '--format', 'json']);
  expect(result.status, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as { findings: { kind: string; path: string }[]; warnings: string[] };
  expect(report.findings.map((finding) => [finding.kind, finding.path])).toEqual([['unlinked-while-mapped', '/tmp/review19x/gdbm/fd.db']]);
  const aboutOthers = report.warnings.filter((warning) => warning.includes('maps-end.'));
  expect(aboutOthers.length).toBeLessThanOrEqual(22);
  expect(aboutOthers).toContain(
    `${bundle}: ${(FILES - 2000).toLocaleString('en-US')} maps-end.N.txt file(s) past the first 2,000 not read (a capture writes at most 1,000): ` +
      "their processes' findings are neither confirmed nor contradicted by them, and their deleted files are not reported",
  );
  expect(aboutOthers.some((warning) => /more problems of its maps-end\.N\.txt files, not said one by one$/.test(warning))).toBe(true);
  rmSync(scratch, { recursive: true, force: true });
}, 120_000);

// Review 29 (code review, F6): the twin of a snapshot (maps-start.linked and the like: the ranges of its lines whose
// "(deleted)" file is still linked) was read whole whatever its size: every twin of 2,000 files could be 200 MB.
it('a twin larger than the snapshot it is of is not read, and says so', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'om-big-twin-'));
  const bundle = join(scratch, 'bundle');
  cpSync(join(REPO, 'test', 'fixtures', 'review9-late-start', 'bundle'), bundle, { recursive: true });
  const snapshot = readFileSync(join(bundle, 'maps-start.txt'));
  writeFileSync(join(bundle, 'maps-start.linked'), '7f0000000000-7f0000001000\n'.repeat(Math.ceil(snapshot.length / 26) + 1));
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { warnings: string[] };
  expect(report.warnings).toContain(`${join(bundle, 'maps-start.linked')}: larger than the snapshot it is of, as no capture writes: not used (its lines read as deleted files)`);
  rmSync(scratch, { recursive: true, force: true });
});
