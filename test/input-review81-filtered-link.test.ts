// Review 81, F1: a trace taken by hand with an `-e trace=` of only the calls
// the mission names (openat, mmap, munmap, ftruncate, rename…, unlink…,
// close) leaves out link and linkat. Debian's localedef builds a locale
// archive under a temporary name (O_CREAT|O_EXCL), maps it, links it into
// place and removes the temporary name: read without the link, the removal
// is the file's last name, and its mappings read as errors ("520.7 MiB held
// when unlinked"), with nothing said. The trace cannot show a call its filter
// left out; the report now says that a filtered trace with no link or linkat
// may be missing them, whenever it reports an error.
//
// Truth: the same program under a filter that keeps link (the README's):
// strace shows the link, the archive has its name, and nothing outlived it.
// A filter as broad as the README's says so itself (a dup, an fcntl, an
// mremap… in the trace): a real leak read under it carries no such warning
// (review 82: it was noise there). An -ff set is judged as one input, by all
// its files; and a run whose other input shows a call nobody follows (no such
// filter) does not warn for one small input that made only followed calls
// (code review 83, F7).
//
// Needs strace and localedef (Debian's libc-bin) with the en_US locale source (locales).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { workspace } from './scenarios/harness.js';
import { PYTHON } from './scenarios/harness.js';
import { requireTool, runCli, STRACE_FILTER, verdictOf } from './support/tools.js';

const MISSION_FILTER = 'execve,clone,clone3,fork,vfork,exit_group,openat,mmap,munmap,ftruncate,rename,renameat,renameat2,unlink,unlinkat,close';

beforeAll(() => {
  requireTool('strace');
  requireTool('localedef');
  if (!existsSync('/usr/share/i18n/locales/en_US')) throw new Error("localedef needs the en_US locale source (Debian's locales package)");
});

/**
 * localedef writing an archive under `prefix`, under strace -ttt -yy with `filter` and `-f` (or `-ff`, run by a shell
 * that forks it: a set of several files): the trace (the set's directory), and the archive's path.
 */
function localedef(name: string, filter: string, follow: '-f' | '-ff' = '-f'): { trace: string; archive: string } {
  const prefix = workspace(`review81-localedef-${name}`);
  mkdirSync(join(prefix, 'usr', 'lib', 'locale'), { recursive: true });
  const command = ['localedef', '-i', 'en_US', '-f', 'UTF-8', `--prefix=${prefix}`, 'en_US.UTF-8'];
  const traced = follow === '-f' ? command : ['sh', '-c', `${command.join(' ')}; exit $?`];
  const trace = join(prefix, follow === '-f' ? 'trace.txt' : 'ff');
  if (follow === '-ff') mkdirSync(trace);
  const run = spawnSync('strace', [follow, '-ttt', '-yy', '-e', `trace=${filter}`, '-o', follow === '-f' ? trace : join(trace, 'trace'), ...traced], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.status, run.stderr).toBe(0);
  return { trace, archive: join(prefix, 'usr', 'lib', 'locale', 'locale-archive') };
}

const WARNING = 'only calls orphanmap follows, and no link or linkat: if -e trace= left them out';

it('a filter that keeps link: strace shows the temporary name linked into place, and nothing outlived its file', () => {
  const { trace, archive } = localedef('kept', STRACE_FILTER);
  const text = readFileSync(trace, 'utf8');
  expect(text).toMatch(new RegExp(`link\\("${archive.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\w+", "${archive.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\) = 0`));
  expect(statSync(archive).nlink).toBe(1);
  const { report, failOn } = verdictOf(trace);
  expect(report.findings.filter((finding) => (finding as { severity: string }).severity === 'error')).toEqual([]);
  expect(failOn).toBe(0);
  expect(report.warnings.join('\n')).not.toContain(WARNING);
});

it('a filter of the calls the mission names, without link: the errors it reads come with the warning that link may have been left out', () => {
  const { trace, archive } = localedef('left-out', MISSION_FILTER);
  expect(readFileSync(trace, 'utf8')).not.toMatch(/^\d+ [\d.]+ link/m);
  expect(statSync(archive).nlink).toBe(1);
  const { report, failOn } = verdictOf(trace);
  const errors = report.findings.filter((finding) => (finding as { severity: string }).severity === 'error') as { path: string }[];
  // What the trace alone reads: the temporary name's removal, the last as far as it shows.
  expect(errors.length).toBeGreaterThan(0);
  for (const error of errors) expect(error.path).toMatch(new RegExp(`^${archive.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\w+$`));
  expect(failOn).toBe(3);
  const said = report.warnings.filter((warning) => warning.includes(WARNING));
  expect(said).toEqual([expect.stringMatching(new RegExp(`^${trace.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `))]);
});

it("an -ff set under the mission's filter: the errors come with the warning, which names the set", () => {
  const { trace, archive } = localedef('left-out-ff', MISSION_FILTER, '-ff');
  const members = readdirSync(trace);
  expect(members.length, members.join(' ')).toBeGreaterThan(1);
  expect(statSync(archive).nlink).toBe(1);
  const { report, failOn } = verdictOf(trace);
  expect(report.findings.some((finding) => (finding as { severity: string }).severity === 'error')).toBe(true);
  expect(failOn).toBe(3);
  const said = report.warnings.filter((warning) => warning.includes(WARNING));
  expect(said, report.warnings.join('\n')).toEqual([expect.stringContaining(`and the ${members.length - 1} other files of its -ff set: `)]);
});

it('the filtered trace read with an unfiltered trace of the same run: no warning (one input showed calls nobody follows)', () => {
  const { trace } = localedef('left-out-with-other', MISSION_FILTER);
  const other = join(workspace('review83-unfiltered'), 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-yy', '-o', other, PYTHON, '-c', 'pass'], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  // strace's own word that this input is unfiltered: calls the engine does not follow.
  expect(readFileSync(other, 'utf8')).toMatch(/^\d+ +[\d.]+ (newfstatat|fstat|brk|getrandom)\(/m);
  const { report, failOn } = verdictOf(`${trace}`, {});
  expect(failOn).toBe(3);
  const both = runCli(['analyze', trace, other, '--format', 'json']);
  const warnings = (JSON.parse(both.stdout) as { warnings: string[] }).warnings;
  expect(warnings.some((warning) => warning.includes(WARNING))).toBe(false);
  expect(report.warnings.some((warning) => warning.includes(WARNING))).toBe(true);
});

// A real leak: Python maps a file (its mmap module dups the fd first) and removes it; /proc would print it "(deleted)".
const LEAK =
  'import mmap, os, sys\np = sys.argv[1]\nopen(p, "wb").write(b"x" * 8192)\nf = open(p, "r+b")\nm = mmap.mmap(f.fileno(), 8192)\nf.close()\nos.unlink(p)\n' +
  'print(any(line.rstrip().endswith(p + " (deleted)") for line in open("/proc/self/maps")))\n';

it.each([
  ["the README's", STRACE_FILTER, false],
  ["the mission's (no link, no dup)", MISSION_FILTER, true],
] as const)('a real leak under %s filter: an error, and the warning only where the filter may have left link out', (_, filter, warned) => {
  const dir = workspace('review82-leak');
  const trace = join(dir, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-yy', '-e', `trace=${filter}`, '-o', trace, PYTHON, '-c', LEAK, join(dir, 'leaked.bin')], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  // The kernel's word, read by the program before it exited.
  expect(run.stdout).toBe('True\n');
  const { report, failOn } = verdictOf(trace);
  expect(report.findings.filter((finding) => (finding as { severity: string }).severity === 'error')).toHaveLength(1);
  expect(failOn).toBe(3);
  expect(report.warnings.some((warning) => warning.includes(WARNING))).toBe(warned);
});
