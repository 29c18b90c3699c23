// Review 14, M3: a bundle that holds nothing of its process proves nothing,
// in every view. The bundles of test/capture-gone-before-attach-*.test.ts say
// so in meta.json ("target-exited-before-attach"); a bundle written before
// that exitReason existed says "target-exited", "complete": true, and holds no
// event and no maps snapshot: the reviewer's, whose trace.txt is copied here
// (bpftrace's header, the capture's stop record and the end line, nothing of
// pid 20635). Neither may read as a process checked and found sound.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { App } from '../src/tui/App.js';
import { engineFeed } from '../src/tui/feed.js';
import { readIntoStore } from '../src/tui/run.js';
import { TuiStore } from '../src/tui/store.js';
import { runCli } from './support/tools.js';

const TRACE = ['Attaching 70 probes...', 'orphanmap-bt 1 begin ns=43137918080480 cpu=1 self=20771 root=20635 cpus=2', '43140281217294 1 20695 20695 stop', '43145032628650 1 0 0 end', ''].join('\n');
const MAPS = '7f7035080000-7f7035180000 rw-s 00000000 fe:00 2368704                    /tmp/review14/short.bin (deleted)\n';
const CLEAN = 'orphanmap: no mapping outlived its file.';
const LEGACY_WHY = 'nothing of pid 20635 was traced: the bundle holds no event and no /proc/PID/maps snapshot of it (did it exit before bpftrace attached?)';

function bundle(meta: Record<string, unknown>, mapsStart = false): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-untraced-')), 'bundle');
  mkdirSync(dir);
  const base = {
    schema: 'orphanmap/bundle@1',
    backend: 'bpftrace',
    pid: 20635,
    mode: 'attached',
    traceFiles: ['trace.txt'],
    mapCountStart: null,
    mapCountEnd: null,
    endTime: '2026-12-03T03:35:46.010Z',
  };
  writeFileSync(join(dir, 'meta.json'), JSON.stringify({ ...base, ...meta }));
  writeFileSync(join(dir, 'trace.txt'), TRACE);
  if (mapsStart) writeFileSync(join(dir, 'maps-start.txt'), MAPS);
  return dir;
}

const legacy = () => bundle({ exitReason: 'target-exited', complete: true });

describe('a bundle that holds nothing of its process', () => {
  it('from an older capture ("target-exited", complete): no clean headline, a warning first, and --fail-on and diff refuse it', () => {
    const dir = legacy();
    const text = runCli(['analyze', dir]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout.split('\n')[0]).toBe(`orphanmap: no verdict: ${LEGACY_WHY}.`);
    const json = runCli(['analyze', dir, '--format', 'json']);
    expect((JSON.parse(json.stdout) as { warnings: string[] }).warnings[0]).toBe(`${dir}: ${LEGACY_WHY}, so the bundle proves nothing either way (--fail-on and diff refuse it)`);
    const verdict = runCli(['analyze', dir, '--fail-on', 'warning']);
    expect(verdict.status).toBe(2);
    expect(verdict.stderr).toBe(`orphanmap: ${dir}: error: ${LEGACY_WHY}, so --fail-on warning cannot tell that nothing leaked\n`);
    const diff = runCli(['diff', dir, legacy()]);
    expect(diff.status).toBe(2);
    expect(diff.stderr).toContain(`${LEGACY_WHY}, so it cannot be compared`);
    const jira = runCli(['analyze', dir, '--format', 'jira']);
    // Jira markup escapes the punctuation; the words are the same.
    expect(jira.stdout).toContain('*no verdict: nothing of pid 20635 was traced: ');
    expect(jira.stdout).not.toContain('no mapping outlived its file');
    const evidence = join(dir, '..', 'evidence');
    const report = runCli(['report', dir, '--out', evidence]);
    expect(report.status, report.stderr).toBe(0);
    expect(report.stderr.split('\n')[0]).toBe(`orphanmap: no verdict: ${LEGACY_WHY}.`);
  });

  it('is judged by what the bundle holds: a maps snapshot, or a meta.json without the counts (hand-made), is not "nothing"', () => {
    const snapshot = runCli(['analyze', bundle({ exitReason: 'target-exited', complete: true, mapCountStart: 1 }, true)]);
    expect(snapshot.stdout.split('\n')[0]).not.toContain('no verdict');
    const handMade = bundle({ exitReason: 'target-exited', complete: true, mapCountStart: undefined, mapCountEnd: undefined });
    // Not "nothing": but an attached capture without its maps at the start does not know what was mapped before it
    // (review 25: a process that exited as the capture attached read as clean).
    expect(runCli(['analyze', handMade]).stdout.split('\n')[0]).toBe(
      `orphanmap: no mapping was seen to outlive its file, but the trace may miss some: ${handMade} has no maps-start.txt: the capture did not read process 20635's maps when it attached, so what it mapped before the capture is unknown (see the warnings).`,
    );
    writeFileSync(join(handMade, 'maps-start.txt'), MAPS.replace(' (deleted)', ''));
    expect(runCli(['analyze', handMade]).stdout.split('\n')[0]).toBe(CLEAN);
  });

  it('the TUI says "no verdict" where its list would say no mapping outlived its file', async () => {
    const dir = bundle({ exitReason: 'target-exited-before-attach', complete: false });
    const store = new TuiStore({ source: { kind: 'file', names: [dir] }, throttleMs: 0 });
    await readIntoStore([dir], store, engineFeed(store));
    store.flush();
    const view = render(<App store={store} width={160} height={30} />);
    try {
      const deadline = Date.now() + 5000;
      while (!(view.lastFrame() ?? '').includes('no verdict') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      const frame = view.lastFrame() ?? '';
      expect(frame).toContain('no verdict: pid 20635 exited before bpftrace attached to it: nothing of it was traced');
      expect(frame).not.toContain('no mapping outlived its file');
    } finally {
      view.unmount();
    }
  });
});
