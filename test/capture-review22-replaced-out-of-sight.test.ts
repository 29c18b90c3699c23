// Review 22 (exactness, Postfix): `capture --pid MASTER`, while the admin's
// postmap (outside the traced tree) renamed a new virtual.cdb over the one
// the cleanup and trivial-rewrite workers had mapped. The workers exited
// holding their mappings: /proc showed them "(deleted)" for seconds, and the
// report said "no mapping outlived its file", exit 0 with --fail-on error.
// Review 23 (exactness): the same for a Dovecot cache doveadm replaced,
// under bpftrace, and for journal files the vacuum removed, under strace,
// where the process unmapped its mapping seconds later, then closed the fd.
//
// The trace holds no call of the removal. bpftrace reports the inode each
// open reached: a later open of the name reaching another inode shows the
// file lost that name out of sight; strace -y shows a close's fd "(deleted)",
// and bpftrace a close's link count of 0 (review 44, H1). The mappings of
// that file made since the trace last saw an open reach it by a name, and no
// longer live then, are in doubt (summary.mappingsInDoubt, a warning naming
// each, --fail-on exit 2 after the report); one live then is a finding. A
// worker that mapped and unmapped it before that last open is no doubt.
//
// A real python3 server (test/scenarios/replaced-out-of-sight.py) under
// `orphanmap capture --pid`, both backends; the rename is this test's,
// outside the trace. The truth: each worker's own /proc/self/maps after the
// rename, showing its mapping deleted.
//
// Needs bpftrace, strace, /usr/bin/python3 and root.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { captureAttached } from './support/attach.js';
import { killStillRunning } from './support/proc.js';
import { REPO, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const PROGRAM = join(REPO, 'test', 'scenarios', 'replaced-out-of-sight.py');

interface Truth {
  pid: number;
  held: number;
  unmaps: number;
  letGo: number;
  reader: number;
  /** What each worker's /proc/self/maps showed deleted after the rename. */
  deleted: { held: string[]; unmaps: string[] };
}

const children: ChildProcess[] = [];
afterEach(() => killStillRunning(children));
beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/capture-review22-replaced-out-of-sight.test.ts must run as root (bpftrace)');
  requireTool('bpftrace');
  requireTool('strace');
  requireTool(PYTHON);
});

/** How each tracer's close shows the file nameless. */
const SHOWN = { bpftrace: 'with no name left (link count 0)', strace: '"(deleted)"' };

const TEXT = (backend: 'bpftrace' | 'strace', t: Truth, table: string, trace: string) =>
  new RegExp(
    `^A mapped file lost a name where the trace does not show it: the close at ${esc(trace)}:\\d+ \\(process ${t.unmaps}\\) shows ${esc(table)} ${esc(SHOWN[backend])}, which no call in the trace removed, ` +
      `and of which a mapping in process ${t.held} was made since the trace last saw that name reach it\\. `,
  );

const esc = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('a mapped table replaced by a process outside the trace (review 22, Postfix; review 23, Dovecot and journalctl)', () => {
  it.each(['bpftrace', 'strace'] as const)(
    'capture --pid --backend %s: the mappings made since the name was last seen are in doubt, and --fail-on exits 2',
    async (backend) => {
      const work = realpathSync(workspace(`replaced-out-of-sight-${backend}`));
      const table = join(work, 'table.cdb');
      writeFileSync(table, Buffer.alloc(8192, 'a'));
      writeFileSync(join(work, 'table.new'), Buffer.alloc(8192, 'b'));
      const server = spawn(PYTHON, [PROGRAM, work], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(server);
      const serverDone = exited(server);

      const bundle = join(work, 'bundle');
      const { captured } = await captureAttached(backend, server, bundle, children);
      writeFileSync(join(work, 'go'), '');
      await waitFor('the workers to map the table', () => existsSync(join(work, 'mapped')), 30_000);
      // postmap's way: a new table renamed over the old one, by a process the capture does not trace.
      renameSync(join(work, 'table.new'), table);
      writeFileSync(join(work, 'replaced'), '');
      expect((await serverDone).code).toBe(0);
      const result = await captured;
      expect(result.code, result.stderr).toBe(0);

      const truth = JSON.parse(readFileSync(join(work, 'truth.json'), 'utf8')) as Truth;
      // Each worker's own word: its mapping outlived the file's name.
      expect(truth.deleted.held).toHaveLength(1);
      expect(truth.deleted.unmaps).toHaveLength(1);

      const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { summary: { mappingsInDoubt: number }; findings: Finding[]; warnings: string[] };
      // Python's mmap closes the fd it keeps before it unmaps: that close shows the file nameless while the mapping
      // lives, a finding; the mapping "held" took with it when it exited is in doubt. (Under bpftrace both were in
      // doubt, from the reader's open of the new file, before its close said the link count.)
      expect(report.findings.map((f) => [f.pid, f.path, f.resolution])).toEqual([[truth.unmaps, table, 'unmapped']]);
      expect(report.summary.mappingsInDoubt).toBe(1);
      const warning = report.warnings.find((text) => text.startsWith('A mapped file lost a name where the trace does not show it'));
      expect(warning).toMatch(TEXT(backend, truth, table, join(bundle, 'trace.txt')));
      // The worker that unmapped the table before it was last seen by its name is no doubt.
      expect(warning).not.toContain(`process ${truth.letGo} `);

      const text = runCli(['analyze', bundle]);
      const verdict = runCli(['analyze', bundle, '--fail-on', 'error']);
      expect(text.stdout.split('\n')[0]).toMatch(
        new RegExp(
          `^orphanmap: 1 mapping outlived its file in process ${truth.unmaps} \\(.*\\); 1 more mapping is in doubt \\(its file may have lost its last name where the trace cannot tell: see the warnings\\)\\.$`,
        ),
      );
      expect(verdict.status, verdict.stderr).toBe(3);
    },
    180_000,
  );
});
