// The deploy wrapper and the systemd units, with real tools: systemd-analyze
// verifies the units offline (no systemd needs to run); the wrapper writes
// the textfile the way node_exporter needs it (whole, readable, replaced by a
// rename); and the unit's capability bounding set, applied with setpriv, is
// enough to read another user's /proc/PID/maps and no more than that.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, requireTool } from './tools.js';
import { orphanmapShim, requireBuiltCli, startLeaker, stopAll, WRAPPER } from './fixtures/fleet/harness.js';

const SYSTEMD = join(REPO, 'deploy', 'systemd');
const SERVICE = join(SYSTEMD, 'orphanmap-scan.service');
const TIMER = join(SYSTEMD, 'orphanmap-scan.timer');
const INSTALLED_WRAPPER = '/usr/local/lib/orphanmap/orphanmap-textfile';
const NOBODY = 65534;

interface PromFamily {
  name: string;
  type: string;
  metrics: { value: string; labels?: Record<string, string> }[];
}
const parsePrometheusTextFormat = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => PromFamily[];

let scratch: string;
let shim: string;
const cleanup: string[] = [];

beforeAll(() => {
  requireBuiltCli();
  scratch = mkdtempSync(join(tmpdir(), 'orphanmap-fleet-units-'));
  shim = orphanmapShim(join(scratch, 'bin'));
});

afterAll(async () => {
  await stopAll();
  for (const dir of [scratch, ...cleanup]) if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}, 30_000);

/** `Key=value` lines of a unit file's section, in order (a key may repeat). */
function unitEntries(path: string, section: string): [string, string][] {
  const entries: [string, string][] = [];
  let current = '';
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line);
    if (header !== null) current = header[1]!;
    else if (current === section && /^\w+=/.test(line)) {
      const eq = line.indexOf('=');
      entries.push([line.slice(0, eq), line.slice(eq + 1)]);
    }
  }
  return entries;
}

function entry(path: string, section: string, key: string): string[] {
  return unitEntries(path, section)
    .filter(([k]) => k === key)
    .map(([, value]) => value);
}

function runWrapper(env: Record<string, string>, args: string[] = [], prefix: string[] = []): { status: number; stdout: string; stderr: string } {
  const command = prefix.length > 0 ? prefix[0]! : WRAPPER;
  const argv = prefix.length > 0 ? [...prefix.slice(1), WRAPPER, ...args] : args;
  const result = spawnSync(command, argv, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8' });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function textfileDir(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir);
  return dir;
}

describe('deploy/systemd units', () => {
  it("pass systemd-analyze verify (the service pointed at this checkout's wrapper)", () => {
    requireTool('systemd-analyze');
    const dir = textfileDir('units');
    const service = readFileSync(SERVICE, 'utf8');
    expect(service).toContain(`ExecStart=${INSTALLED_WRAPPER} `);
    // verify checks that ExecStart exists; the wrapper is not installed on this machine.
    writeFileSync(join(dir, 'orphanmap-scan.service'), service.replace(INSTALLED_WRAPPER, WRAPPER));
    writeFileSync(join(dir, 'orphanmap-scan.timer'), readFileSync(TIMER, 'utf8'));
    const result = spawnSync('systemd-analyze', ['verify', './orphanmap-scan.service', './orphanmap-scan.timer'], { cwd: dir, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    // Unknown keys and bad values are warnings with status 0: there must be none.
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
  });

  it('are hardened: systemd-analyze security rates the service OK or better', () => {
    requireTool('systemd-analyze');
    const dir = textfileDir('security');
    writeFileSync(join(dir, 'orphanmap-scan.service'), readFileSync(SERVICE, 'utf8').replace(INSTALLED_WRAPPER, WRAPPER));
    const result = spawnSync('systemd-analyze', ['security', '--offline=yes', './orphanmap-scan.service'], { cwd: dir, encoding: 'utf8' });
    const level = /Overall exposure level for orphanmap-scan\.service: (\d+\.\d+)/.exec(result.stdout)?.[1];
    expect(level, `${result.stdout}${result.stderr}`).toBeDefined();
    expect(Number(level)).toBeLessThanOrEqual(4.0);
  });

  it('agree with each other and with the rules: one textfile directory, a oneshot every minute, stale after five', () => {
    expect(entry(SERVICE, 'Service', 'Type')).toEqual(['oneshot']);
    const env = Object.fromEntries(entry(SERVICE, 'Service', 'Environment').map((value) => value.split('=', 2) as [string, string]));
    expect(entry(SERVICE, 'Service', 'ReadWritePaths')).toEqual([env.ORPHANMAP_TEXTFILE_DIR]);
    expect(env.ORPHANMAP_TEXTFILE_DIR).toBe('/var/lib/prometheus/node-exporter');
    expect(entry(TIMER, 'Timer', 'OnUnitActiveSec')).toEqual(['1min']);
    expect(entry(TIMER, 'Install', 'WantedBy')).toEqual(['timers.target']);
    expect(readFileSync(join(REPO, 'deploy', 'prometheus', 'orphanmap.rules.yml'), 'utf8')).toContain('time() - orphanmap_scan_timestamp_seconds > 300');
  });
});

describe('deploy/orphanmap-textfile.sh', () => {
  it("writes the whole exposition, readable by node_exporter's user, and leaves no temporary file", () => {
    const dir = textfileDir('once');
    const result = runWrapper({ ORPHANMAP: shim, ORPHANMAP_TEXTFILE_DIR: dir }, ['--top', '2']);
    expect(result.status, result.stderr).toBe(0);
    expect(readdirSync(dir)).toEqual(['orphanmap.prom']);
    const path = join(dir, 'orphanmap.prom');
    expect(statSync(path).mode & 0o777).toBe(0o644);
    const families = parsePrometheusTextFormat(readFileSync(path, 'utf8'));
    const names = families.map((family) => family.name);
    expect(names).toEqual(expect.arrayContaining(['orphanmap_vm_max_map_count', 'orphanmap_process_mappings', 'orphanmap_process_deleted_mappings', 'orphanmap_scan_timestamp_seconds']));
    expect(families.every((family) => family.type === 'GAUGE')).toBe(true);
  });

  it('replaces the file by a rename: a reader never sees a partial file', async () => {
    const dir = textfileDir('atomic');
    const path = join(dir, 'orphanmap.prom');
    const env = { PATH: process.env.PATH ?? '', ORPHANMAP: shim, ORPHANMAP_TEXTFILE_DIR: dir };
    expect(runWrapper(env).status).toBe(0);
    const inodes = new Set<number>();
    let reads = 0;
    const torn: string[] = [];
    let done = false;
    const writers = (async () => {
      for (let k = 0; k < 5; k++) {
        await new Promise<void>((resolve, reject) => {
          const child = spawn(WRAPPER, [], { env, stdio: 'ignore' });
          child.on('error', reject);
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`wrapper exited ${code}`))));
        });
      }
      done = true;
    })();
    while (!done) {
      const text = readFileSync(path, 'utf8');
      reads++;
      if (!/\norphanmap_scan_timestamp_seconds \d+\n$/.test(text) || !text.startsWith('# HELP ')) torn.push(text.slice(-200));
      inodes.add(statSync(path).ino);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await writers;
    expect(torn).toEqual([]);
    expect(reads).toBeGreaterThan(50);
    expect(inodes.size).toBeGreaterThan(1);
    expect(readdirSync(dir)).toEqual(['orphanmap.prom']);
  });

  it.each([
    ['a missing directory', { ORPHANMAP_TEXTFILE_DIR: '/nonexistent/textfile' }, /\/nonexistent\/textfile is not a directory/],
    ['a name node_exporter would not read', { ORPHANMAP_TEXTFILE: 'orphanmap.txt' }, /must end in \.prom/],
    ['a name with a directory in it', { ORPHANMAP_TEXTFILE: '../orphanmap.prom' }, /must be a plain file name/],
    ['no orphanmap to run', { ORPHANMAP: '/nonexistent/orphanmap' }, /cannot run '\/nonexistent\/orphanmap'/],
  ])('refuses %s with exit 2 and writes nothing', (_what, override, message) => {
    const dir = textfileDir(`refuse-${readdirSync(scratch).length}`);
    const result = runWrapper({ ORPHANMAP: shim, ORPHANMAP_TEXTFILE_DIR: dir, ...override });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("the unit's CapabilityBoundingSet, applied with setpriv", () => {
  it("reads another user's leaking process with CAP_SYS_PTRACE, and cannot without it", async () => {
    requireTool('setpriv');
    if (process.getuid?.() !== 0) throw new Error('this test needs root: it runs the leaker as another user and the scan as root with reduced capabilities (CI runs as root)');
    const caps = entry(SERVICE, 'Service', 'CapabilityBoundingSet');
    expect(caps).toEqual(['CAP_SYS_PTRACE']);
    expect(entry(SERVICE, 'Service', 'User')).toEqual(['root']);

    // The leaker runs as nobody, in a directory of its own (scratch is 0700).
    const home = mkdtempSync(join(tmpdir(), 'orphanmap-fleet-nobody-'));
    cleanup.push(home);
    chmodSync(home, 0o777);
    const leaker = await startLeaker(home, ['--interval', '0.05', '--count', '3'], { uid: NOBODY, gid: NOBODY });
    expect(existsSync(`/proc/${leaker.pid}`)).toBe(true);
    expect(statSync(`/proc/${leaker.pid}`).uid).toBe(NOBODY);

    const scanWith = (bounding: string) => {
      const dir = textfileDir(`caps-${bounding.replace(/\W/g, '')}`);
      const result = runWrapper({ ORPHANMAP: shim, ORPHANMAP_TEXTFILE_DIR: dir }, [], ['setpriv', `--bounding-set=${bounding}`, '--inh-caps=-all', '--']);
      expect(result.status, result.stderr).toBe(0);
      return readFileSync(join(dir, 'orphanmap.prom'), 'utf8');
    };
    const unitCaps = caps[0]!.split(/\s+/).map((cap) => `+${cap.replace(/^CAP_/, '').toLowerCase()}`);
    const withCaps = scanWith(['-all', ...unitCaps].join(','));
    expect(withCaps).toMatch(new RegExp(`^orphanmap_process_deleted_mappings\\{pid="${leaker.pid}",comm="python3"\\} [1-9]`, 'm'));

    const without = scanWith('-all');
    expect(without).not.toContain(`pid="${leaker.pid}"`);
    const denied = (text: string) => Number(/^orphanmap_scan_processes\{result="denied"\} (\d+)$/m.exec(text)?.[1]);
    expect(denied(without)).toBeGreaterThan(denied(withCaps));
  });
});
