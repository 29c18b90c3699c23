// `scan` against a real leak: the JVM reproducer in leaky mode, held alive, and
// scan must find exactly the "(deleted)" lines it printed from its own maps.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerScan } from '../src/commands/scan.js';
import { scanProcesses } from '../src/scan/read.js';
import { compileReproducer } from './tools.js';

interface PromSample {
  value: string;
  labels?: Record<string, string>;
}
interface PromFamily {
  name: string;
  help: string;
  type: string;
  metrics: PromSample[];
}
// parse-prometheus-text-format ships no types; it is CommonJS with a default export.
const parsePrometheusTextFormat = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => PromFamily[];

const THREADS = 2;
const SEGMENTS = 2;

interface Reproducer {
  child: ChildProcess;
  pid: number;
  /** The (deleted) lines the JVM read from its own /proc/self/maps. */
  groundTruth: string[];
}

let jvm: Reproducer;

function requireJdk(): void {
  for (const tool of ['java', 'javac']) {
    const found = spawnSync(tool, ['-version'], { stdio: 'ignore' });
    if (found.error !== undefined || found.status !== 0) {
      throw new Error(`this test needs a JDK (${tool} is missing); CI installs one (.ci/run), install openjdk-17-jdk-headless here`);
    }
  }
}

async function startReproducer(): Promise<Reproducer> {
  requireJdk();
  const classes = compileReproducer();
  const work = mkdtempSync(join(tmpdir(), 'orphanmap-scan-'));
  const ready = join(work, 'ready');
  const child = spawn(
    'java',
    ['-cp', classes, 'IndexLifecycle', '--mode', 'leaky', '--threads', String(THREADS), '--segments', String(SEGMENTS), '--dir', join(work, 'logs'), '--ready-file', ready, '--hold-seconds', '300'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const deadline = Date.now() + 90_000;
  while (!existsSync(ready)) {
    if (child.exitCode !== null) throw new Error(`the reproducer exited with ${child.exitCode} before it was ready:\n${stdout}\n${stderr}`);
    if (Date.now() > deadline) throw new Error(`the reproducer was not ready after 90 s:\n${stdout}\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // The ready file is written after the ground truth is printed; let the pipe drain.
  while (!stdout.includes('--- end ground truth ---')) {
    if (Date.now() > deadline) throw new Error(`the reproducer wrote its ready file but no ground truth:\n${stdout}\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const pid = Number(/^pid=(\d+)$/m.exec(stdout)?.[1]);
  const begin = stdout.indexOf('--- orphanmap ground truth: deleted mappings (/proc/self/maps) ---\n');
  const end = stdout.indexOf('--- end ground truth ---');
  const groundTruth = stdout
    .slice(stdout.indexOf('\n', begin) + 1, end)
    .split('\n')
    .filter((line) => line !== '');
  return { child, pid, groundTruth };
}

/** "0x7f87db600000-0x7f87dc000000 /path", cut from a ground-truth line by its own rule, not by the parser under test. */
function truthKey(line: string): string {
  const match = /^([0-9a-f]+)-([0-9a-f]+) [rwxps-]{4} [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ \d+ +(.+) \(deleted\)$/.exec(line);
  if (match === null) throw new Error(`not a maps line of a deleted file: ${line}`);
  return `0x${match[1]}-0x${match[2]} ${match[3]}`;
}

function rangeBytes(key: string): number {
  const [range] = key.split(' ');
  const [start, end] = range!.split('-');
  return Number(end) - Number(start);
}

async function runScanCli(args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number | undefined }> {
  let stdout = '';
  let stderr = '';
  const program = new Command('orphanmap').exitOverride();
  registerScan(program, { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } });
  const before = process.exitCode;
  await program.parseAsync(['scan', ...args], { from: 'user' });
  const exitCode = process.exitCode as number | undefined;
  process.exitCode = before;
  return { stdout, stderr, exitCode };
}

beforeAll(async () => {
  jvm = await startReproducer();
}, 120_000);

afterAll(() => {
  jvm?.child.kill('SIGKILL');
});

describe('scan of the JVM reproducer in leaky mode', () => {
  it('printed its ground truth: two superseded index mappings per segment', () => {
    expect(jvm.pid).toBe(jvm.child.pid);
    expect(jvm.groundTruth).toHaveLength(THREADS * SEGMENTS * 2);
  });

  it('finds exactly the (deleted) mappings of the ground truth: count, addresses and paths', async () => {
    const result = await scanProcesses({ pids: [jvm.pid] });
    expect(result.skipped).toEqual([]);
    expect(result.processes).toHaveLength(1);
    const process = result.processes[0]!;
    expect(process.comm).toBe('java');

    const found = process.deletedFiles.flatMap((file) => file.mappings.map((m) => `${m.start}-${m.end} ${file.path}`)).sort();
    const truth = jvm.groundTruth.map(truthKey).sort();
    expect(found).toEqual(truth);
    expect(process.deletedMappings).toBe(truth.length);
    expect(process.deletedBytes).toBe(truth.reduce((sum, key) => sum + rangeBytes(key), 0));
    expect(process.anonymousDeletedMappings).toBe(0);

    expect(process.patterns.map((p) => [p.pattern, p.files, p.mappings])).toEqual([
      ['*.index.deleted', THREADS * SEGMENTS, THREADS * SEGMENTS],
      ['*.timeindex.deleted', THREADS * SEGMENTS, THREADS * SEGMENTS],
    ]);
    const max = Number(readFileSync('/proc/sys/vm/max_map_count', 'utf8'));
    expect(result.maxMapCount).toBe(max);
    expect(process.mappings).toBeGreaterThan(100);
    expect(process.headroom).toBe(max - process.mappings);
  });

  it('--format prom gives the same counts, read back by a Prometheus text-format parser', async () => {
    const { stdout, exitCode } = await runScanCli(['--pid', String(jvm.pid), '--format', 'prom']);
    expect(exitCode).toBe(0);
    const families = new Map(parsePrometheusTextFormat(stdout).map((family) => [family.name, family]));
    const truth = jvm.groundTruth.map(truthKey);
    const only = (name: string): PromSample => {
      const family = families.get(name);
      expect(family, name).toBeDefined();
      expect(family!.type).toBe('GAUGE');
      expect(family!.help).not.toBe('');
      expect(family!.metrics).toHaveLength(1);
      return family!.metrics[0]!;
    };

    const deleted = only('orphanmap_process_deleted_mappings');
    expect(deleted.labels).toEqual({ pid: String(jvm.pid), comm: 'java' });
    expect(Number(deleted.value)).toBe(truth.length);
    expect(Number(only('orphanmap_process_deleted_mapped_bytes').value)).toBe(truth.reduce((sum, key) => sum + rangeBytes(key), 0));
    expect(Number(only('orphanmap_process_mappings').value)).toBeGreaterThan(100);
    const max = only('orphanmap_vm_max_map_count');
    expect(max.labels ?? {}).toEqual({});
    expect(Number(max.value)).toBe(Number(readFileSync('/proc/sys/vm/max_map_count', 'utf8')));

    const byPattern = families.get('orphanmap_process_deleted_pattern_mappings')!.metrics.map((m) => [m.labels?.pattern, Number(m.value)]);
    expect(byPattern).toEqual([
      ['*.index.deleted', THREADS * SEGMENTS],
      ['*.timeindex.deleted', THREADS * SEGMENTS],
    ]);
    // The parser merges samples with equal labels; count the raw lines so a duplicate series cannot hide.
    const sampleLines = stdout.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    const parsedSamples = [...families.values()].reduce((sum, family) => sum + family.metrics.length, 0);
    expect(parsedSamples).toBe(sampleLines.length);
    for (const name of families.keys()) expect(name).toMatch(/^orphanmap_[a-z_]+$/);
  });

  it('--format json lists the same mappings', async () => {
    const { stdout } = await runScanCli(['--pid', String(jvm.pid), '--format', 'json']);
    const report = JSON.parse(stdout) as { schema: string; processes: { pid: number; deletedFiles: { path: string; mappings: { start: string; end: string }[] }[] }[] };
    expect(report.schema).toBe('orphanmap/scan@1');
    const found = report.processes[0]!.deletedFiles.flatMap((file) => file.mappings.map((m) => `${m.start}-${m.end} ${file.path}`)).sort();
    expect(found).toEqual(jvm.groundTruth.map(truthKey).sort());
  });

  it('text names the process, the patterns and the largest deleted files', async () => {
    const { stdout } = await runScanCli(['--pid', String(jvm.pid)]);
    expect(stdout).toMatch(new RegExp(`^\\s*${jvm.pid}\\s+java\\s`, 'm'));
    expect(stdout).toContain('*.index.deleted: 4 files, 4 mappings, 40.0 MiB');
    expect(stdout).toContain('*.timeindex.deleted: 4 files, 4 mappings, 40.0 MiB');
    expect(stdout).toContain('.index.deleted');
  });

  it('a scan of every process includes the JVM with the same count', async () => {
    const result = await scanProcesses();
    const process = result.processes.find((p) => p.pid === jvm.pid);
    expect(process?.deletedMappings).toBe(jvm.groundTruth.length);
    expect(result.processes.length).toBeGreaterThan(1);
  });
});
