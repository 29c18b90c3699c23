// Review 56, F2: `orphanmap live -- CMD`, ended by Ctrl-C while the command's
// fork child (traced from its fork) held leaks: the capture read the child's
// maps (maps-end.N.txt), then ended both, and live said the child was a
// process "the trace never shows", its 4 mappings of deleted files in doubt,
// where `analyze` of the same bundle says none. Live learns which processes
// have a maps-end.N.txt only at the end, and what such a child held at its
// exit was not kept: it says so, and checks nothing (a file a hard link kept
// would read as a leak). Its findings are analyze's.
// Truth: analyze of the bundle live saved, and the program's own record.
//
// Needs strace.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

/** Leaks a.dat, forks a child that leaks f.dat and maps e.dat, unlinked while a hard link keeps it; both then wait. */
const PROGRAM = `
import mmap, os, time
d = os.path.abspath("w")
def mapped_then_unlinked(name, link=False):
    p = os.path.join(d, name)
    with open(p, "wb") as f:
        f.write(b"\\0" * 8192)
    if link:
        os.link(p, p + ".keep")
    with open(p, "r+b") as f:
        m = mmap.mmap(f.fileno(), 8192)
    os.unlink(p)
    return m
kept = [mapped_then_unlinked("a.dat")]
if os.fork() == 0:
    kept += [mapped_then_unlinked("e.dat", link=True), mapped_then_unlinked("f.dat")]
    open(os.path.join(d, "child-ready"), "w").close()
    time.sleep(120)
    os._exit(0)
while not os.path.exists(os.path.join(d, "child-ready")):
    time.sleep(0.05)
open(os.path.join(d, "ready"), "w").close()
time.sleep(120)
`;

const children: ReturnType<typeof spawn>[] = [];

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

afterEach(() => killStillRunning(children));

it('live -- CMD, ended while a traced fork child holds leaks: its findings are analyze’s, and no process is said unseen', async () => {
  const dir = workspace('review56-live-child');
  writeFileSync(join(dir, 'prog.py'), PROGRAM);
  const bundle = join(dir, 'bundle');
  const live = spawn(process.execPath, [CLI, 'live', '--save', bundle, '--', PYTHON, 'prog.py'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(live);
  let shown = '';
  live.stdout!.on('data', (chunk: Buffer) => (shown += chunk.toString('utf8')));
  const ended = exited(live);
  await waitFor('the program and its child to map their files', () => existsSync(join(dir, 'w', 'ready')), 60_000);
  await waitFor("live's line of the child's leak", () => shown.includes('/w/f.dat"'), 30_000);
  live.kill('SIGINT');
  const run = await ended;
  expect(run.code, run.stderr).toBe(130);

  const last = new Map<string, Finding>();
  for (const line of run.stdout.split('\n').filter(Boolean)) {
    const finding = JSON.parse(line) as Finding;
    last.set(finding.id, finding);
  }
  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; summary: { mappingsInDoubt: number } };
  const facts = (finding: Finding) => `${finding.pid} ${finding.kind} ${finding.address} ${finding.path.split('/').at(-1)} ${finding.resolution}`;
  expect([...last.values()].map(facts)).toEqual(report.findings.map(facts));
  // The program's record: a.dat in both, f.dat in the child; e.dat kept by its link.
  expect(report.findings.map((finding) => finding.path.split('/').at(-1)).sort()).toEqual(['a.dat', 'a.dat', 'f.dat']);
  expect(report.summary.mappingsInDoubt).toBe(0);
  expect(run.stderr).not.toContain('never shows');
  // The child's maps at the end: checked against the trace while it runs (e.dat: kept by its link), or, once it
  // exited in the trace, said to be left to analyze; which one is the race between the capture's stop and its exit.
  expect(run.stderr).toMatch(
    /process \d+ still maps a deleted file that no finding explains: the trace shows the name it was mapped by removed while another name kept the file|1 traced process\(es\) exited once the capture had read their maps \(maps-end\.N\.txt: pid \d+\): live does not check those maps against the trace/,
  );
}, 90_000);
