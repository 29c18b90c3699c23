// Driving Debian's tdbtool (tdb-tools) in the review-9 tests: inserts of
// values large enough that a few hundred grow the database, and the lines of
// a process's /proc/PID/maps that map the database.
import { readFileSync } from 'node:fs';

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
