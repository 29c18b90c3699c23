// The fleet setup end to end, with the real parts from Debian's packages: a
// Python program leaks mappings of deleted files; the deploy wrapper runs
// `orphanmap scan --format prom` into a textfile directory every second, as
// the systemd timer does every minute; node_exporter's textfile collector
// serves it on 127.0.0.1; a Prometheus server on 127.0.0.1 scrapes it with
// deploy/prometheus/prometheus.example.yml and evaluates the shipped rules,
// their windows shortened to seconds. The test polls Prometheus's HTTP API
// until the metric is there and the alert fires, with its runbook.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, requireTool } from './tools.js';
import { freePort, GiveUp, orphanmapShim, requireBuiltCli, running, sleep, startLeaker, startProcess, stopAll, waitFor, WRAPPER, type Leaker, type Started } from './fixtures/fleet/harness.js';

const DEPLOY = join(REPO, 'deploy', 'prometheus');
/** Debian's name for node_exporter; upstream's binary is node_exporter. */
const NODE_EXPORTER = 'prometheus-node-exporter';

/**
 * The shipped rules with their windows shortened for a test that lasts
 * seconds: each swap must match exactly as often as expected, so a change to
 * the rules fails here instead of silently testing something else.
 */
function fastRules(rules: string, horizonSeconds: number): string {
  const swaps: [RegExp, string, number][] = [
    [/min_over_time\(orphanmap_process_deleted_mappings\[1h\]\)/g, 'min_over_time(orphanmap_process_deleted_mappings[30s])', 1],
    [/predict_linear\(orphanmap_process_mappings\[6h\], 24 \* 3600\)/g, `predict_linear(orphanmap_process_mappings[30s], ${horizonSeconds})`, 1],
    [/^( {8}for: )\d+m$/gm, '$11s', 5],
  ];
  let out = rules;
  for (const [pattern, replacement, count] of swaps) {
    const found = out.match(pattern)?.length ?? 0;
    if (found !== count) throw new Error(`expected ${count} match(es) of ${pattern} in the rules, found ${found}: update fastRules`);
    out = out.replace(pattern, replacement);
  }
  return out;
}

/** prometheus.example.yml pointed at this test's node_exporter, rules and intervals, keeping only python3 processes. */
function testConfig(example: string, target: string, rulesFile: string): string {
  const swaps: [string, string][] = [
    ['scrape_interval: 30s', 'scrape_interval: 1s'],
    ['evaluation_interval: 30s', 'evaluation_interval: 1s'],
    ['- orphanmap.rules.yml', `- '${rulesFile}'`],
    ["targets: ['localhost:9100']", `targets: ['${target}']`],
    // The keep-list recipe, with the one process name this test keeps.
    ["regex: '.*'", "regex: 'python3'"],
  ];
  let out = example;
  for (const [from, to] of swaps) {
    if (out.split(from).length !== 2) throw new Error(`prometheus.example.yml should hold "${from}" once: update testConfig`);
    out = out.replace(from, to);
  }
  return out;
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  value: string;
}

let work: string;
let textfiles: string;
let leaker: Leaker;
let nodeExporter: Started;
let prometheus: Started;
let promUrl: string;
let scansRun = 0;
const scanFailures: string[] = [];
let scanning = true;
let scanLoop: Promise<void> = Promise.resolve();

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`${promUrl}${path}`);
  const body = (await response.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? response.status}`);
  return body.data;
}

async function query(expr: string): Promise<Sample[]> {
  const data = await api<{ result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
  return data.result;
}

function diagnostics(): string {
  return [
    `scans run: ${scansRun}, failed: ${scanFailures.length}${scanFailures.length > 0 ? `\n${scanFailures.slice(-3).join('\n')}` : ''}`,
    `--- node_exporter ---\n${nodeExporter?.output().slice(-2000) ?? ''}`,
    `--- prometheus ---\n${prometheus?.output().slice(-3000) ?? ''}`,
  ].join('\n');
}

/** The deploy wrapper, once, as the timer runs it. */
function runWrapper(env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(WRAPPER, ['--top', '3'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => {
      scanFailures.push(error.message);
      resolve();
    });
    child.on('exit', (code) => {
      scansRun++;
      if (code !== 0) scanFailures.push(`exit ${code}: ${stderr}`);
      resolve();
    });
  });
}

beforeAll(async () => {
  requireTool('prometheus');
  requireTool(NODE_EXPORTER);
  requireBuiltCli();
  work = mkdtempSync(join(tmpdir(), 'orphanmap-fleet-e2e-'));
  textfiles = join(work, 'textfile-collector');
  mkdirSync(textfiles);

  // About 4 more deleted mappings a second, each of 64 KiB.
  leaker = await startLeaker(work, ['--interval', '0.25', '--size', '65536']);

  const env = { ...process.env, ORPHANMAP: orphanmapShim(join(work, 'bin')), ORPHANMAP_TEXTFILE_DIR: textfiles };
  await runWrapper(env);
  expect(scanFailures, scanFailures.join('\n')).toEqual([]);
  scanLoop = (async () => {
    while (scanning) {
      const started = Date.now();
      await runWrapper(env);
      await sleep(Math.max(0, 1000 - (Date.now() - started)));
    }
  })();

  const nodePort = await freePort();
  nodeExporter = startProcess('node_exporter', NODE_EXPORTER, [
    `--web.listen-address=127.0.0.1:${nodePort}`,
    '--collector.disable-defaults',
    '--collector.textfile',
    `--collector.textfile.directory=${textfiles}`,
  ]);
  await waitFor(
    'node_exporter to serve /metrics',
    30_000,
    async () => {
      if (!running(nodeExporter.child)) throw new GiveUp(`node_exporter exited:\n${nodeExporter.output()}`);
      const text = await (await fetch(`http://127.0.0.1:${nodePort}/metrics`)).text();
      return text.includes('orphanmap_vm_max_map_count') ? text : undefined;
    },
    diagnostics,
  );

  // A horizon at which the leaker's rate (4 a second) passes vm.max_map_count twice over.
  const maxMapCount = Number(readFileSync('/proc/sys/vm/max_map_count', 'utf8'));
  const rulesFile = join(work, 'orphanmap.rules.yml');
  writeFileSync(rulesFile, fastRules(readFileSync(join(DEPLOY, 'orphanmap.rules.yml'), 'utf8'), Math.ceil(maxMapCount / 2)));
  const configFile = join(work, 'prometheus.yml');
  writeFileSync(configFile, testConfig(readFileSync(join(DEPLOY, 'prometheus.example.yml'), 'utf8'), `127.0.0.1:${nodePort}`, rulesFile));

  const promPort = await freePort();
  promUrl = `http://127.0.0.1:${promPort}`;
  prometheus = startProcess('prometheus', 'prometheus', [`--config.file=${configFile}`, `--storage.tsdb.path=${join(work, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn']);
  await waitFor(
    'Prometheus to be ready',
    60_000,
    async () => {
      if (!running(prometheus.child)) throw new GiveUp(`prometheus exited:\n${prometheus.output()}`);
      return (await fetch(`${promUrl}/-/ready`)).ok ? true : undefined;
    },
    diagnostics,
  );
}, 120_000);

afterAll(async () => {
  scanning = false;
  await scanLoop;
  await stopAll();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('fleet: scan → textfile → node_exporter → Prometheus → alert', () => {
  it('servers listen on loopback only', () => {
    expect(promUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(nodeExporter.child.spawnargs.join(' ')).toMatch(/--web\.listen-address=127\.0\.0\.1:\d+/);
    expect(prometheus.child.spawnargs.join(' ')).toMatch(/--web\.listen-address=127\.0\.0\.1:\d+/);
  });

  it("Prometheus has the leaker's deleted mappings, growing, and the host's vm.max_map_count", async () => {
    const selector = `orphanmap_process_deleted_mappings{pid="${leaker.pid}"}`;
    const first = await waitFor(`${selector} in Prometheus`, 60_000, async () => (await query(selector))[0], diagnostics);
    expect(first.metric).toMatchObject({ __name__: 'orphanmap_process_deleted_mappings', pid: String(leaker.pid), comm: 'python3', job: 'node' });
    expect(Object.keys(first.metric).some((label) => label.startsWith('__tmp'))).toBe(false);
    const start = Number(first.value[1]);
    expect(start).toBeGreaterThanOrEqual(1);
    await waitFor(
      `${selector} to grow past ${start + 4}`,
      30_000,
      async () => {
        const now = Number((await query(selector))[0]?.value[1]);
        return now >= start + 4 ? now : undefined;
      },
      diagnostics,
    );

    const max = await query('orphanmap_vm_max_map_count');
    expect(max.map((sample) => Number(sample.value[1]))).toEqual([Number(readFileSync('/proc/sys/vm/max_map_count', 'utf8'))]);
    const bytes = await query(`orphanmap_process_deleted_pattern_mapped_bytes{pid="${leaker.pid}",pattern="*.index.deleted"}`);
    expect(Number(bytes[0]?.value[1]) % 65536).toBe(0);
    expect(Number(bytes[0]?.value[1])).toBeGreaterThanOrEqual(65536 * 5);
  });

  it('fires OrphanmapDeletedMappingsGrowing for the leaker, with a runbook naming orphanmap capture --pid', async () => {
    const alert = await waitFor(
      'OrphanmapDeletedMappingsGrowing firing for the leaker',
      60_000,
      async () => {
        const { alerts } = await api<{ alerts: Alert[] }>('/api/v1/alerts');
        return alerts.find((a) => a.labels.alertname === 'OrphanmapDeletedMappingsGrowing' && a.labels.pid === String(leaker.pid) && a.state === 'firing');
      },
      diagnostics,
    );
    expect(alert.labels).toMatchObject({ severity: 'warning', comm: 'python3', job: 'node' });
    expect(Number(alert.value)).toBeGreaterThanOrEqual(4);
    expect(alert.annotations.summary).toContain(`python3 (pid ${leaker.pid}) on 127.0.0.1:`);
    expect(alert.annotations.runbook).toContain(`orphanmap capture --pid ${leaker.pid} --backend bpftrace`);
    expect(alert.annotations.runbook).toContain('orphanmap report');
  });

  it('fires OrphanmapMapCountExhaustionPredicted from predict_linear, and not the headroom alert', async () => {
    const alert = await waitFor(
      'OrphanmapMapCountExhaustionPredicted firing for the leaker',
      60_000,
      async () => {
        const { alerts } = await api<{ alerts: Alert[] }>('/api/v1/alerts');
        return alerts.find((a) => a.labels.alertname === 'OrphanmapMapCountExhaustionPredicted' && a.labels.pid === String(leaker.pid) && a.state === 'firing');
      },
      diagnostics,
    );
    expect(alert.annotations.runbook).toContain(`orphanmap capture --pid ${leaker.pid}`);
    const { alerts } = await api<{ alerts: Alert[] }>('/api/v1/alerts');
    expect(alerts.filter((a) => a.labels.alertname === 'OrphanmapMapCountHeadroomLow' && a.labels.pid === String(leaker.pid))).toEqual([]);
    expect(alerts.filter((a) => a.labels.alertname === 'OrphanmapScanStale')).toEqual([]);
  });

  it('fires OrphanmapScanDenied exactly when the scan reports processes it could not read', async () => {
    // As root, a sandbox's init can still refuse (this machine's pid 1 does); a host's systemd does not.
    const denied = Number(/^orphanmap_scan_processes\{result="denied"\} (\d+)$/m.exec(readFileSync(join(textfiles, 'orphanmap.prom'), 'utf8'))?.[1]);
    expect(Number.isInteger(denied)).toBe(true);
    const { alerts } = await api<{ alerts: Alert[] }>('/api/v1/alerts');
    const fired = alerts.filter((a) => a.labels.alertname === 'OrphanmapScanDenied');
    expect(fired.map((a) => [a.state, Number(a.value)])).toEqual(denied === 0 ? [] : [['firing', denied]]);
  });

  it("keeps only the listed process names: Prometheus's own process is scanned but its series are dropped", async () => {
    const file = readFileSync(join(textfiles, 'orphanmap.prom'), 'utf8');
    expect(file).toContain(`orphanmap_process_mappings{pid="${prometheus.child.pid}",comm="prometheus"}`);
    expect(await query(`orphanmap_process_mappings{pid="${prometheus.child.pid}"}`)).toEqual([]);
    expect(await query('orphanmap_process_mappings{comm!="python3"}')).toEqual([]);
    // Host-wide families have no comm and are kept.
    expect((await query('orphanmap_scan_processes{result="scanned"}')).length).toBe(1);
  });

  it('the wrapper ran every second without a failure', () => {
    expect(scanFailures, scanFailures.join('\n')).toEqual([]);
    expect(scansRun).toBeGreaterThan(3);
  });
});
