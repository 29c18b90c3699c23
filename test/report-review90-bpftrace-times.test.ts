// Review 90, S-6: a bpftrace bundle's places carry "+seconds", and neither
// the text report nor the Markdown and Jira ones said what they count from:
// "+17.16" added to the capture's start missed the server's own log line by
// the 6.6 s bpftrace took to attach. The reports now say it: seconds since
// the script's begin line. Truth: the trace's own lines, the begin line's
// ns= and the mapping's record's time stamp (both CLOCK_BOOTTIME ns).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const BPFTRACE = join('test', 'fixtures', 'review19-symlink-bpftrace', 'bundle');
const STRACE = join('test', 'fixtures', 'review20-apache-windows', 'bundle');
const SAID = 'times "+s.us": seconds since the bpftrace script began (once its probes attached), not wall-clock times';

it('a bpftrace bundle: every report says its "+" times count from the script\'s begin line, as the trace\'s own records do', () => {
  const report = JSON.parse(runCli(['analyze', BPFTRACE, '--format', 'json']).stdout) as { findings: { mappedAt: { line: number; time: string } }[] };
  const place = report.findings[0]!.mappedAt;
  const lines = readFileSync(join(REPO, BPFTRACE, 'trace.txt'), 'utf8').split('\n');
  const begin = BigInt(/ begin ns=(\d+) /.exec(lines.find((line) => line.includes(' begin ns='))!)![1]!);
  const stamp = BigInt(lines[place.line - 1]!.split(' ')[0]!);
  // The place's time is its record's stamp less the begin line's, in seconds to the microsecond.
  expect(place.time).toBe(`+${(Number(stamp - begin) / 1e9).toFixed(6)}`);

  expect(runCli(['analyze', BPFTRACE]).stdout).toContain(`\n  ${SAID}\n`);
  expect(runCli(['analyze', BPFTRACE, '--format', 'markdown']).stdout).toContain(`| trace times | ${SAID.replace(/^times /, '')} |`);
  expect(runCli(['analyze', BPFTRACE, '--format', 'jira']).stdout).toContain('|trace times|');
});

it('a strace bundle, whose times are the wall clock: no such line', () => {
  expect(runCli(['analyze', STRACE]).stdout).not.toContain('seconds since the bpftrace script began');
  expect(runCli(['analyze', STRACE, '--format', 'markdown']).stdout).not.toContain('trace times');
});
