// Review 26, F2: a file whose real name ends in " (deleted)" prints in
// /proc/PID/maps exactly as a deleted file does, and scan counted 32 MiB of
// one that was never deleted (its metrics and alerts with it). A deleted file
// is one with no link left: scan asks the kernel (a stat of
// /proc/PID/map_files/START-END, which root may follow), and else, as the
// process's owner, looks for a file of the printed name itself.
// Truth: /proc/PID/maps of the real program, read by this test, and the
// program's own record of what it did to each file (st_nlink after it).
//
// Needs root (to scan with map_files), setpriv (the program and the owner's
// scan run as nobody) and /usr/bin/python3.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NOBODY } from './support/nobody.js';
import { CLI, requireTool } from './support/tools.js';

const PROGRAM = join(import.meta.dirname, 'fixtures', 'scan', 'named-deleted-hold.py');

interface Held {
  kind: string;
  name: string;
  inode: number;
  pages: number;
  linksLeft: number;
}

let program: ChildProcess;
let work: string;
let held: Held[];

beforeAll(async () => {
  for (const tool of ['setpriv', '/usr/bin/python3']) requireTool(tool);
  if (process.getuid?.() !== 0) throw new Error('this test needs root (a stat of /proc/PID/map_files): run it as root, as .ci/run does');
  work = mkdtempSync(join(tmpdir(), 'om-named-deleted-'));
  chownSync(work, NOBODY, NOBODY);
  program = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '/usr/bin/python3', PROGRAM, work, '120'], { stdio: ['ignore', 'pipe', 'inherit'] });
  held = [];
  for await (const line of createInterface({ input: program.stdout! })) {
    if (line === 'ready') break;
    const [kind, name, inode, pages, linksLeft] = line.split('\t');
    held.push({ kind: kind!, name: name!, inode: Number(inode), pages: Number(pages), linksLeft: Number(linksLeft) });
  }
  expect(held.map((file) => file.kind)).toEqual(['named', 'gone', 'real', 'twice']);
}, 30_000);

afterAll(() => {
  program?.kill('SIGKILL');
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

interface ScannedProcess {
  deletedMappings: number;
  deletedBytes: number;
  deletedMappingsByName: number;
  linkedMappings: number;
  deletedFiles: { path: string; inode: number; bytes: number; linksCounted: boolean }[];
}

/** `orphanmap scan --pid` of the program, as root or as nobody (its owner), in JSON and in text. */
function scanned(as: 'root' | 'owner'): { json: ScannedProcess; text: string } {
  const args = ['scan', '--pid', String(program.pid)];
  const prefix = as === 'root' ? [] : ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'];
  const run = (format: string) => {
    const [command, ...rest] = [...prefix, process.execPath, CLI, ...args, '--format', format];
    const result = spawnSync(command!, rest, { encoding: 'utf8', cwd: '/tmp' });
    expect(result.status, result.stderr).toBe(0);
    return result.stdout;
  };
  const json = (JSON.parse(run('json')) as { processes: ScannedProcess[] }).processes;
  expect(json).toHaveLength(1);
  return { json: json[0]!, text: run('text') };
}

/** Each file as it should be counted: its name as the kernel printed it without one " (deleted)", and its bytes. */
function counted(files: Held[]): { path: string; inode: number; bytes: number }[] {
  const page = Number(spawnSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).stdout.trim());
  return files.map((file) => ({ path: file.name, inode: file.inode, bytes: file.pages * page })).sort((a, b) => b.bytes - a.bytes);
}

it('the kernel prints all four files ending in " (deleted)", though two have a link left', () => {
  // 7f6479b78000-7f6479c78000 rw-s 00000000 fe:00 2173172                    /tmp/om-named-deleted-x/seg (deleted)
  //                                               ^^^^^^^ inode              ^^^^ name, to the end of the line
  const names = new Map<number, string[]>();
  for (const line of readFileSync(`/proc/${program.pid}/maps`, 'utf8').split('\n')) {
    const match = /^\S+ \S+ \S+ \S+ (\d+) +(.+)$/.exec(line);
    if (match !== null) names.set(Number(match[1]), [...(names.get(Number(match[1])) ?? []), match[2]!]);
  }
  // The kernel appends " (deleted)" to each name the program unlinked; "seg (deleted)" is the name it gave.
  for (const file of held) expect(names.get(file.inode)).toEqual([file.kind === 'named' ? file.name : `${file.name} (deleted)`]);
  for (const file of held) expect(names.get(file.inode)![0]!.endsWith(' (deleted)')).toBe(true);
  expect(held.map((file) => [file.kind, file.linksLeft])).toEqual([
    ['named', 1],
    ['gone', 0],
    ['real', 0],
    ['twice', 1],
  ]);
});

it('as root, counts only the files with no link left, each confirmed', () => {
  const { json, text } = scanned('root');
  const deleted = held.filter((file) => file.linksLeft === 0);
  expect(json.deletedFiles.map(({ path, inode, bytes }) => ({ path, inode, bytes }))).toEqual(counted(deleted));
  expect(json.deletedFiles.every((file) => file.linksCounted)).toBe(true);
  expect([json.deletedMappings, json.deletedBytes, json.deletedMappingsByName, json.linkedMappings]).toEqual([
    deleted.length,
    counted(deleted).reduce((sum, file) => sum + file.bytes, 0),
    0,
    held.length - deleted.length,
  ]);
  // The named file's name, cut of its " (deleted)", names no file: it is not shown at all.
  expect(text).not.toContain(join(work, 'seg'));
  expect(text).toContain('2 mappings of files that print "(deleted)" but still have a link');
}, 30_000);

it('as its owner, who may not follow map_files, finds the file of the printed name, and says the rest are counted by name', () => {
  const { json, text } = scanned('owner');
  // twice.bin's other link has another name: only root's map_files shows it.
  const byName = held.filter((file) => file.kind !== 'named');
  expect(json.deletedFiles.map(({ path, inode, bytes }) => ({ path, inode, bytes }))).toEqual(counted(byName));
  expect(json.deletedFiles.some((file) => file.linksCounted)).toBe(false);
  expect([json.deletedMappings, json.deletedMappingsByName, json.linkedMappings]).toEqual([byName.length, byName.length, 1]);
  expect(text).not.toContain(join(work, 'seg'));
  expect(text).toContain('3 mappings counted by the name /proc prints alone');
}, 30_000);
