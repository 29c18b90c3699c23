// Driving Debian's tdbtool (tdb-tools) in the review-9 tests: inserts of
// values large enough that a few hundred grow the database, and the lines of
// a process's /proc/PID/maps that map the database.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { waitFor } from './wait.js';

const VALUE = 'v'.repeat(300);

/** tdbtool commands inserting key<from> … key<to>. */
export function inserts(from: number, to: number): string {
  let commands = '';
  for (let k = from; k <= to; k++) commands += `insert key${k} ${VALUE}\n`;
  return commands;
}

/** The lines of /proc/PID/maps that map `file`. */
export function mapsOf(pid: number, file: string): string[] {
  return readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .filter((line) => line.includes(` ${file}`));
}

/**
 * tdbtool started in `dir`, and `step`, which sends it commands and waits
 * until it has done them: each step ends with "show" of a marker key, whose
 * line, printed with its data, says so. stdbuf execs tdbtool (one pid), whose
 * answers then come line by line down the pipe.
 */
export function startTdbtool(dir: string): { tdbtool: ChildProcess; pid: number; step: (commands: string, mark: string) => Promise<void> } {
  const tdbtool = spawn('stdbuf', ['-oL', 'tdbtool'], { cwd: dir, stdio: ['pipe', 'pipe', 'ignore'] });
  let out = '';
  tdbtool.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const step = async (commands: string, mark: string) => {
    tdbtool.stdin!.write(`${commands}insert ${mark} done\nshow ${mark}\n`);
    await waitFor(`tdbtool to do ${mark}`, () => out.includes(`\n${mark}\ndata `), 20_000);
  };
  return { tdbtool, pid: tdbtool.pid!, step };
}
