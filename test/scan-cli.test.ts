// `orphanmap scan` through the real CLI (dist/, built by `npm test`): the exit
// statuses of bad usage (issue #11, item 13).
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './tools.js';

describe('orphanmap scan, bad usage', () => {
  it('exits 2 naming a --pid that does not exist, and prints no scan', () => {
    // A process id (at most 2^22, the largest pid_max) that no process has now.
    let missing = 2 ** 22;
    while (existsSync(`/proc/${missing}`)) missing--;
    const { status, stdout, stderr } = runCli(['scan', '--pid', String(missing)]);
    expect(status).toBe(2);
    expect(stderr).toBe(`orphanmap: error: cannot scan pid ${missing} (no such process)\n`);
    expect(stdout).toBe('');
  });

  it('exits 2 for a --pid no process can have, with the words analyze, capture and live use', () => {
    const { status, stdout, stderr } = runCli(['scan', '--pid', String(2 ** 22 + 1)]);
    expect([status, stdout, stderr]).toEqual([2, '', `orphanmap: error: --pid needs a process id (a whole number from 1 to 4194304), not "${2 ** 22 + 1}"\n`]);
  });

  it('exits 2 for a --watch interval that would be a busy loop', () => {
    for (const value of ['1e-9', '1e7']) {
      const { status, stderr } = runCli(['scan', '--watch', value]);
      expect(status, value).toBe(2);
      expect(stderr).toContain(`--watch needs seconds from 0.1 to 86400 (a day), not "${value}"`);
    }
  });

  it('still scans a --pid that exists', () => {
    const { status, stdout } = runCli(['scan', '--pid', String(process.pid), '--format', 'json']);
    expect(status).toBe(0);
    const comm = readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim();
    expect(JSON.parse(stdout)).toMatchObject({ processes: [{ pid: process.pid, comm }] });
  });
});
