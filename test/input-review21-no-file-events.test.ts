// A trace whose only events are a process's clones, exits and working
// directories shows nothing a mapping did (review 21's exactness review:
// `strace -p` without -f of a Lucene JVM, which leaked 21 mappings meanwhile,
// read "no mapping outlived its file" and --fail-on error exited 0, because
// exit_group and the exit counted as events). It is now no verdict, as a trace
// with no event at all is. The truth: the JVM's /proc/PID/maps, polled
// while it ran (test/fixtures/review21-lucene-nof/README.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const DIR = join(REPO, 'test', 'fixtures', 'review21-lucene-nof');
const TRACE = join(DIR, 'trace.txt');

it('the real trace: no verdict, --fail-on and diff refuse it, though it has events', () => {
  // The truth: the process leaked while this trace was taken.
  const deleted = readFileSync(join(DIR, 'proc-deleted.tsv'), 'utf8').trim().split('\n');
  expect(deleted).toHaveLength(21);
  const json = JSON.parse(runCli(['analyze', TRACE, '--format', 'json']).stdout) as { summary: { events: number; fileEvents: number }; warnings: string[] };
  expect(json.summary.events).toBeGreaterThan(0);
  expect(json.summary.fileEvents).toBe(0);
  expect(runCli(['analyze', TRACE]).stdout.split('\n')[0]).toMatch(/^orphanmap: no verdict: the trace holds none of the calls orphanmap follows on files and mappings/);
  const failOn = runCli(['analyze', TRACE, '--fail-on', 'error']);
  expect(failOn.status).toBe(2);
  expect(failOn.stderr).toContain('cannot tell that nothing leaked');
  expect(runCli(['diff', TRACE, TRACE]).status).toBe(2);
});

it('one call on a file is a trace that can say', () => {
  const text = readFileSync(TRACE, 'utf8').split('\n');
  const withOpen = [text[0], '23:23:06.000000 openat(AT_FDCWD</>, "/tmp/x", O_RDONLY) = 3</tmp/x>', ...text.slice(1)].join('\n');
  const result = runCli(['analyze', '-', '--fail-on', 'error'], withOpen);
  expect(result.status, result.stderr).toBe(0);
});
