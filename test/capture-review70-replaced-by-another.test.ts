// Review 70, F1: a file a traced program mapped, then replaced at its name by
// a process the capture does not trace (fc-cache rebuilding the font caches
// a program held; gdbm's reorganize renaming a new database over the one a
// reader held), the program exiting with the old file still mapped: /proc
// showed the mapping "(deleted)", and the report read clean, exit 0. The
// capture looked the names up once the trace had ended, and a name leading
// to a file was not gone. It now writes which file each name leads to
// (mapped-named.txt): one born after the mapping was made (strace), or of
// another inode than the trace's (bpftrace), is not the file mapped, and the
// mapping is in doubt (`--fail-on` exits 2), as when the name leads nowhere.
// A file only written to, or mapped again once replaced, is no doubt.
// Truth: the program's own /proc/self/maps lines before it exits.
//
// Needs strace and bpftrace.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { exited, PYTHON, workspace } from './scenarios/harness.js';
import { killStillRunning } from './support/proc.js';
import { CLI, requireTool, runCli } from './support/tools.js';
import { waitFor } from './support/wait.js';

const SCENARIO = join(import.meta.dirname, 'scenarios', 'replaced-by-another.py');
const children: ChildProcess[] = [];

beforeAll(() => {
  for (const tool of ['strace', 'bpftrace', PYTHON]) requireTool(tool);
});
afterEach(() => killStillRunning(children));

type How = 'renamed-over' | 'made-anew' | 'written';

/** What this process, which no capture traces, does to cache.bin while the program holds it mapped. */
function change(directory: string, how: How): void {
  const name = join(directory, 'cache.bin');
  if (how === 'written') {
    appendFileSync(name, Buffer.alloc(4096, 'w'));
  } else if (how === 'made-anew') {
    unlinkSync(name);
    writeFileSync(name, Buffer.alloc(16384, 'n'));
  } else {
    writeFileSync(`${name}.new`, Buffer.alloc(16384, 'n'));
    renameSync(`${name}.new`, name);
  }
}

/** replaced-by-another.py under `capture --backend BACKEND`, launched or attached before it maps; cache.bin changed `how` once mapped. */
async function capture(backend: 'strace' | 'bpftrace', attached: boolean, how: How, remap: boolean) {
  const work = workspace(`review70-${backend}`);
  const directory = join(work, 'w');
  const bundle = join(work, 'bundle');
  const args = [SCENARIO, directory, ...(remap ? ['remap'] : []), ...(attached ? ['--wait-start'] : [])];
  let run: Promise<{ code: number | null; stderr: string }>;
  if (attached) {
    const program = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(program);
    const pid = (await createInterface({ input: program.stdout! })[Symbol.asyncIterator]().next()).value as string;
    const capturing = spawn(process.execPath, [CLI, 'capture', '--backend', backend, '--pid', pid, '--out', bundle], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(capturing);
    run = exited(capturing);
    // meta.json is first written once the tracer has attached and the start snapshots are taken.
    await waitFor('the attach (meta.json)', () => existsSync(join(bundle, 'meta.json')), 120_000);
    writeFileSync(join(directory, 'start'), '');
  } else {
    const capturing = spawn(process.execPath, [CLI, 'capture', '--backend', backend, '--out', bundle, '--', PYTHON, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(capturing);
    run = exited(capturing);
  }
  await waitFor('the program to map cache.bin', () => existsSync(join(directory, 'mapped')), 120_000);
  change(directory, how);
  writeFileSync(join(directory, 'go'), '');
  const result = await run;
  expect(result.code, result.stderr).toBe(0);
  const record = readFileSync(join(directory, 'record.txt'), 'utf8').split('\n');
  return { name: join(directory, 'cache.bin'), bundle, pid: Number(/^pid=(\d+)$/.exec(record[0]!)![1]), maps: record.slice(1).filter((line) => line !== '') };
}

it.each([
  ['strace', false, 'renamed-over', false],
  ['strace', false, 'made-anew', false],
  ['strace', false, 'renamed-over', true],
  ['strace', true, 'renamed-over', false],
  ['bpftrace', false, 'renamed-over', false],
  ['bpftrace', false, 'made-anew', true],
] as const)(
  'capture --backend %s (attached: %s) of a program holding a file another process %s (mapped again: %s): in doubt',
  async (backend, attached, how, remap) => {
    const { name, bundle, pid, maps } = await capture(backend, attached, how, remap);
    // The kernel's word: the mapping made first outlived the file's name; one made after the change maps the file there now.
    expect(maps.filter((line) => line.endsWith(`${name} (deleted)`))).toHaveLength(1);
    expect(maps.filter((line) => line.endsWith(` ${name}`))).toHaveLength(remap ? 1 : 0);

    const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: unknown[]; summary: { mappingsInDoubt: number }; warnings: string[] };
    expect(report.findings).toEqual([]);
    expect(report.summary.mappingsInDoubt).toBe(1);
    // Mapped again under bpftrace, the open that did it reached another inode than the one mapped: a doubt of its own,
    // said as it is seen, which covers the lookup's. Either tells the leak, in doubt.
    const reopened = `A mapped file lost a name where the trace does not show it: the open of ${name} at `;
    const told = report.warnings.filter((warning) => warning.includes('mapped-named.txt') || (backend === 'bpftrace' && remap && warning.startsWith(reopened)));
    expect(told, report.warnings.join('\n')).toHaveLength(1);
    if (!told[0]!.startsWith(reopened)) expect(told[0]).toMatch(new RegExp(`^process ${pid} held a mapping of ${name} until it exited or exec'd .*leading to another file`));
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(2);
  },
  180_000,
);

it.each(['strace', 'bpftrace'] as const)(
  'capture --backend %s of a program holding a file another process only wrote to: no doubt',
  async (backend) => {
    const { name, bundle, maps } = await capture(backend, false, 'written', false);
    expect(maps.filter((line) => line.endsWith(` ${name}`))).toHaveLength(1);
    expect(maps.filter((line) => line.includes('(deleted)'))).toEqual([]);
    expect(readFileSync(join(bundle, 'mapped-named.txt'), 'utf8')).toContain(` ${name}\n`);
    const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: unknown[]; summary: { mappingsInDoubt: number } };
    expect([report.findings, report.summary.mappingsInDoubt]).toEqual([[], 0]);
    expect(runCli(['analyze', bundle, '--fail-on', 'error']).status).toBe(0);
  },
  180_000,
);
