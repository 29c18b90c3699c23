// scan against a real process that maps O_TMPFILE files (never linked
// anywhere) beside a memfd and one file it unlinks while mapped. The truth is
// /proc/PID/maps as this test reads and cuts it, and the inode numbers the
// program printed from fstat(): only the unlinked file is a leak.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanProcesses } from '../src/scan/read.js';
import { formatScanText } from '../src/scan/text.js';
import { requireTool } from './tools.js';

const PROGRAM = join(import.meta.dirname, 'fixtures', 'scan', 'tmpfile-hold.py');

interface Held {
  child: ChildProcess;
  work: string;
  printed: { what: string; where: string; inode: number }[];
}

let held: Held;

async function startProgram(): Promise<Held> {
  requireTool('python3');
  const work = mkdtempSync(join(tmpdir(), 'orphanmap-tmpfile-'));
  const child = spawn('python3', [PROGRAM, work, '300'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const deadline = Date.now() + 20_000;
  while (!/^ready$/m.test(stdout)) {
    if (child.exitCode !== null) throw new Error(`tmpfile-hold.py exited with ${child.exitCode} before it was ready (O_TMPFILE unsupported here?):\n${stdout}\n${stderr}`);
    if (Date.now() > deadline) throw new Error(`tmpfile-hold.py was not ready after 20 s:\n${stdout}\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const printed = stdout
    .split('\n')
    .filter((line) => line !== '' && line !== 'ready')
    .map((line) => {
      const [what, where, inode] = line.split(' ');
      return { what: what!, where: where!, inode: Number(inode) };
    });
  return { child, work, printed };
}

/** The " (deleted)" lines of the process's maps, cut by this test's own rule. */
function deletedLines(pid: number): { start: string; end: string; inode: number; path: string }[] {
  const out = [];
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const match = /^([0-9a-f]+)-([0-9a-f]+) [rwxps-]{4} [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ (\d+) +(.+) \(deleted\)$/.exec(line);
    if (match !== null) out.push({ start: `0x${match[1]}`, end: `0x${match[2]}`, inode: Number(match[3]), path: match[4]! });
  }
  return out;
}

beforeAll(async () => {
  held = await startProgram();
}, 30_000);

afterAll(() => {
  held?.child.kill('SIGKILL');
  if (held !== undefined) rmSync(held.work, { recursive: true, force: true });
});

describe('scan of a process holding O_TMPFILE mappings', () => {
  it('the kernel prints each O_TMPFILE mapping as "(deleted)" named #<its inode>', () => {
    const lines = deletedLines(held.child.pid!);
    const tmpfiles = held.printed.filter((p) => p.what === 'tmpfile');
    expect(tmpfiles).toHaveLength(2);
    for (const tmpfile of tmpfiles) {
      expect(lines).toContainEqual(expect.objectContaining({ path: `${tmpfile.where}/#${tmpfile.inode}`, inode: tmpfile.inode }));
    }
  });

  it('counts only the file that was unlinked while mapped, and the others as never named', async () => {
    const pid = held.child.pid!;
    const result = await scanProcesses({ pids: [pid] });
    const lines = deletedLines(pid);
    expect(result.processes).toHaveLength(1);
    const process = result.processes[0]!;

    const leak = held.printed.find((p) => p.what === 'leak')!;
    const leakLines = lines.filter((line) => line.path === leak.where && line.inode === leak.inode);
    expect(leakLines).toHaveLength(1);
    expect(process.deletedFiles.map((file) => [file.path, file.inode])).toEqual([[leak.where, leak.inode]]);
    expect(process.deletedFiles[0]!.mappings.map((m) => `${m.start}-${m.end}`)).toEqual(leakLines.map((line) => `${line.start}-${line.end}`));
    expect(process.deletedMappings).toBe(1);
    expect(process.deletedBytes).toBe(Number(leakLines[0]!.end) - Number(leakLines[0]!.start));
    // Everything else that printed "(deleted)": two O_TMPFILE files and the memfd.
    expect(process.anonymousDeletedMappings).toBe(lines.length - leakLines.length);
    expect(process.anonymousDeletedMappings).toBe(3);
    expect(process.patterns.map((p) => [p.pattern, p.files])).toEqual([['leak.bin', 1]]);

    const text = formatScanText(result, { top: 5, all: false });
    expect(text).not.toContain('/#');
  });
});
