// Review 2, F2: `scan` read each /proc/PID/maps whole, as one string, so an
// unprivileged user's process made root's scan hold its maps text several
// times over (65,000 mappings under a 3,800-byte path: 254 MB of text, 584 MB
// of memory). scan now reads maps a line at a time, keeping only the counts
// and the mappings of deleted files. The process here is nobody's, real:
// 20,000 mappings of one unlinked file under a 3,800-byte path (78 MB of
// maps text).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ELISION } from '../src/parse/maps.js';
import { procfsReader } from '../src/scan/read.js';
import { NOBODY } from './support/nobody.js';
import { CLI, requireTool } from './support/tools.js';
import { waitFor } from './support/wait.js';

const MAPPINGS = 20_000;

// Maps one page of FILE at offset 0 again and again: neighbours do not merge
// (their file offsets do not follow on), so each is a VMA of its own.
const PROGRAM = `
import ctypes, os, sys, time
path, count = sys.argv[1], int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 4096)
for _ in range(count):
    # PROT_READ, MAP_SHARED: mmap(2) directly, as Python's mmap would dup the fd each time.
    if libc.mmap(None, 4096, 1, 1, fd, 0) in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "mmap")
os.close(fd)
os.unlink(path)
print("ready", flush=True)
time.sleep(600)
`;

let target: ChildProcess;
let longPath: string;

beforeAll(async () => {
  requireTool('setpriv');
  const top = mkdtempSync(join(tmpdir(), 'orphanmap-manymaps-'));
  chmodSync(top, 0o755);
  let dir = join(top, 'd');
  mkdirSync(dir);
  chownSync(dir, NOBODY, NOBODY);
  // 15 components of 250 bytes: a path of about 3,800 bytes.
  for (let i = 0; i < 15; i++) {
    dir = join(dir, String(i % 10).repeat(250));
    mkdirSync(dir);
    chownSync(dir, NOBODY, NOBODY);
  }
  longPath = join(dir, 'segment.index');
  target = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '/usr/bin/python3', '-c', PROGRAM, longPath, String(MAPPINGS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  target.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  await waitFor('the target to map its file', () => out.includes('ready'), 30_000);
}, 40_000);

afterAll(() => {
  target?.kill('SIGKILL');
});

describe('scan of a process with many mappings under a long path', () => {
  it('counts every mapping and the one deleted file, in far less memory than its maps text', () => {
    const mapsBytes = spawnSync('wc', ['-c', `/proc/${target.pid}/maps`], { encoding: 'utf8' }).stdout;
    expect(Number.parseInt(mapsBytes, 10)).toBeGreaterThan(MAPPINGS * 3_800);
    // GNU time's %M: the scan's peak resident set, in KiB.
    const run = spawnSync('/usr/bin/time', ['-f', 'maxrss %M', process.execPath, CLI, 'scan', '--pid', String(target.pid), '-f', 'json'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const scanned = JSON.parse(run.stdout).processes[0];
    expect(scanned.deletedMappings).toBe(MAPPINGS);
    expect(scanned.deletedFiles).toHaveLength(1);
    expect(scanned.deletedFiles[0].path).toBe(longPath);
    expect(scanned.mappings).toBeGreaterThan(MAPPINGS);
    const maxRssKiB = Number(/maxrss (\d+)/.exec(run.stderr)?.[1]);
    // Reading it whole held 78 MB of text as a Buffer and again as a string
    // (about 250 MB at the peak); streamed, Node's own 50-70 MB and the
    // 20,000 mappings kept.
    expect(maxRssKiB).toBeLessThan(150 * 1024);
    expect(statSync(`/proc/${target.pid}`).uid).toBe(NOBODY);
  }, 60_000);
});

describe('reading maps a line at a time', () => {
  async function linesOf(text: string | Buffer): Promise<{ lines: string[]; bytes: number }> {
    const root = mkdtempSync(join(tmpdir(), 'orphanmap-lines-'));
    mkdirSync(join(root, '1'));
    writeFileSync(join(root, '1', 'maps'), text);
    const lines: string[] = [];
    const bytes = await procfsReader(root).eachLine!('1/maps', (line) => lines.push(line));
    return { lines, bytes };
  }

  it('joins a line cut by the 64 KiB read, a UTF-8 character cut included, and keeps a last line without a newline', async () => {
    const full = Array.from({ length: 4 }, () => 'a'.repeat(16_000));
    // Four lines fill 64,004 bytes; the first byte of "é" (two bytes) is then byte 65,535, the last of the first read.
    const cut = `${'b'.repeat(65_535 - 64_004)}ééx`;
    const text = `${full.join('\n')}\n${cut}\nlast`;
    const { lines, bytes } = await linesOf(text);
    expect(lines).toEqual([...full, cut, 'last']);
    expect(bytes).toBe(Buffer.byteLength(text));
  });

  it('gives a line longer than 16 KiB as its first 4 KiB, an ellipsis and its last 256 bytes, over several reads, and goes on with the next', async () => {
    const long = `${'p'.repeat(100_000)}${'r'.repeat(100_000)} (deleted)`;
    const { lines } = await linesOf(`ok\n${long}\nnext\n${'q'.repeat(20_000)}`);
    expect(lines).toEqual(['ok', `${long.slice(0, 4096)}${ELISION}${long.slice(-256)}`, 'next', `${'q'.repeat(4096)}${ELISION}${'q'.repeat(256)}`]);
  });

  it('an empty file is no lines and no bytes (a kernel thread reads so)', async () => {
    expect(await linesOf('')).toEqual({ lines: [], bytes: 0 });
  });
});
