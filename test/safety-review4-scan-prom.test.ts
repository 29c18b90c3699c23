// `scan -f prom` against a real process whose comm and unlinked-but-mapped
// file names hold ESC, BEL, DEL, C1, bidi and zero-width characters, a quote,
// a backslash and a newline (review 2, item 2: label values carried them raw).
// The truth is what the process read back from its own /proc/self/comm and
// /proc/self/maps. Every label value must come out as the text view shows it
// (escapeControl), and a real Prometheus server scraping the output must read
// back exactly that text. promtool's parser must accept the output.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filePattern } from '../src/parse/maps.js';
import { escapeControl } from '../src/report/sanitize.js';
import { freePort, GiveUp, PYTHON, requireBuiltCli, requirePython, running, startProcess, stopAll, waitFor, type Started } from './fixtures/fleet/harness.js';
import { requireTool, runCli } from './support/tools.js';

/** Sets its comm, maps files with these names and unlinks them, then writes what it sees of itself to READY as JSON. */
const HOLDER = String.raw`
import json, mmap, os, sys, time
work, ready = sys.argv[1], sys.argv[2]
names = ['esc\x1b[Xm\x1b]X;PWN\x07', 'rlo\u202egnp', 'cone\u009bXm', 'q"b\\s', 'zw\u200bx', 'nl\nx', 'del\x7fx']
with open('/proc/self/comm', 'w') as f:
    f.write('\x1b]0;T\n\x07\u202e"\\')
kept = []
for name in names:
    path = os.path.join(work, name)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.ftruncate(fd, 4096)
    kept.append(mmap.mmap(fd, 4096))
    os.close(fd)
    os.unlink(path)
with open('/proc/self/comm', encoding='utf-8') as f:
    comm = f.read()
with open('/proc/self/maps', encoding='utf-8') as f:
    deleted = [line.split(None, 5)[5][:-len(' (deleted)')] for line in f.read().splitlines() if line.endswith(' (deleted)') and line.split(None, 5)[5].startswith(work + '/')]
with open(ready + '.tmp', 'w') as f:
    json.dump({'pid': os.getpid(), 'comm': comm, 'deleted': deleted}, f)
os.rename(ready + '.tmp', ready)
time.sleep(300)
`;

/** What must never reach the output raw: C0 controls but the line feed, DEL, C1, and the bidi, zero-width and separator characters. */
const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u;

interface Truth {
  pid: number;
  comm: string;
  deleted: string[];
}

let work: string;
let holder: Started;
let truth: Truth;
let prom: string;

beforeAll(async () => {
  requirePython();
  requireBuiltCli();
  work = mkdtempSync(join(tmpdir(), 'orphanmap-review4-prom-'));
  const ready = join(work, 'ready.json');
  holder = startProcess('holder', PYTHON, ['-c', HOLDER, work, ready]);
  truth = await waitFor('the holder to map and unlink its files', 30_000, () => {
    if (!running(holder.child)) throw new GiveUp(`the holder exited: ${holder.output()}`);
    return existsSync(ready) ? (JSON.parse(readFileSync(ready, 'utf8')) as Truth) : undefined;
  });
  const scan = runCli(['scan', '--pid', String(truth.pid), '-f', 'prom', '--top', '20']);
  expect(scan.status, scan.stderr).toBe(0);
  prom = scan.stdout;
}, 60_000);

afterAll(async () => {
  await stopAll();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('scan -f prom of a process with hostile comm and file names', () => {
  it('the process holds the names it was given (the kernel writes a newline in a maps path as \\012)', () => {
    expect(truth.comm).toBe('\x1b]0;T\n\x07\u202e"\\\n');
    expect(truth.deleted).toHaveLength(7);
    expect(truth.deleted).toContain(`${work}/nl\\012x`);
    expect(truth.deleted).toContain(`${work}/esc\x1b[Xm\x1b]X;PWN\x07`);
  });

  it('writes no control, C1, bidi or zero-width character raw', () => {
    for (const line of prom.split('\n')) expect(RAW_UNSAFE.exec(line), JSON.stringify(line)).toBeNull();
    expect(prom).toContain('comm="\\\\x1b]0;T\\\\n\\\\x07\\\\u202e\\"\\\\"');
    expect(prom).toContain('pattern="esc\\\\x1b[Xm\\\\x1b]X;PWN\\\\x07"');
  });

  it("is accepted by promtool's parser", () => {
    requireTool('promtool');
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: prom, encoding: 'utf8' });
    // Status 1 is a parse error; 3 is lint advice (orphanmap_vm_max_map_count ends in _count), which is not about escaping.
    expect(checked.output.join(''), prom).not.toMatch(/pars/i);
    expect([0, 3]).toContain(checked.status);
  });

  it('reads back, in a real Prometheus scrape, as the text view shows the names', async () => {
    requireTool('prometheus');
    const expectedComm = escapeControl(truth.comm.replace(/\n$/, ''));
    const expectedPatterns = truth.deleted.map((path) => escapeControl(filePattern(path))).sort();
    expect(expectedComm).toBe('\\x1b]0;T\\n\\x07\\u202e"\\');
    expect(expectedPatterns).toContain('esc\\x1b[Xm\\x1b]X;PWN\\x07');
    expect(expectedPatterns).toContain('rlo\\u202egnp');

    const server: Server = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      response.end(prom);
    });
    const targetPort = await freePort();
    await new Promise<void>((resolve) => server.listen(targetPort, '127.0.0.1', resolve));
    try {
      const config = join(work, 'prometheus.yml');
      writeFileSync(config, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: scan\n    static_configs:\n      - targets: ['127.0.0.1:${targetPort}']\n`);
      const promPort = await freePort();
      const url = `http://127.0.0.1:${promPort}`;
      const prometheus = startProcess('prometheus', 'prometheus', [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(work, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ]);
      const series = await waitFor(
        'Prometheus to scrape the pattern series',
        60_000,
        async () => {
          if (!running(prometheus.child)) throw new GiveUp(`prometheus exited:\n${prometheus.output()}`);
          const match = encodeURIComponent(`orphanmap_process_deleted_pattern_mappings{pid="${truth.pid}"}`);
          const body = (await (await fetch(`${url}/api/v1/series?match[]=${match}`)).json()) as { status: string; data: Record<string, string>[] };
          return body.status === 'success' && body.data.length >= expectedPatterns.length ? body.data : undefined;
        },
        () => prometheus.output(),
      );
      expect(series.map((labels) => labels.pattern).sort()).toEqual(expectedPatterns);
      expect(new Set(series.map((labels) => labels.comm))).toEqual(new Set([expectedComm]));
      const health = (await (await fetch(`${url}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string; lastError: string }[] } };
      expect(health.data.activeTargets.map((t) => [t.health, t.lastError])).toEqual([['up', '']]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
