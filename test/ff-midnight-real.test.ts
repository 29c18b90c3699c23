// An strace -ff -tt set that runs across midnight (review 1, D-D). -tt stamps
// are times of day without a date: the lines after 00:00 have smaller times
// than the 23:59 ones before them, and a merge by time alone put them first
// (a thread's lines before the clone that made it, an mmap after the
// unlink...). Within one file times never go back, so the merge puts them on
// one clock: a time more than 12 h before the merge's clock is of the next day.
//
// A real capture only crosses midnight at midnight: the test takes a real
// -ff -tt capture and shifts every stamp by one amount, so that it begins
// halfway — the only edit, and what a capture running over
// midnight prints. The truth is the program's own record (ff-fd-race.c).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { analyze } from '../src/ingest/analyze.js';
import { REPO, requireTool } from './support/tools.js';

const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-ff-midnight-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const DAY_US = 86_400_000_000;
const STAMP = /^(\d\d):(\d\d):(\d\d)\.(\d{6}) /;

let capture: string;
let shifted: string;
let leaks: string[];

function microseconds(line: string): number | null {
  const m = STAMP.exec(line);
  return m === null ? null : ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1e6 + Number(m[4]);
}

function stamp(us: number): string {
  const day = ((us % DAY_US) + DAY_US) % DAY_US;
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const seconds = Math.floor(day / 1e6);
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}.${pad(day % 1e6, 6)} `;
}

beforeAll(() => {
  requireTool('strace');
  requireTool('gcc');
  const program = join(scratch, 'ff-fd-race');
  execFileSync('gcc', ['-O2', '-Wall', '-pthread', '-o', program, join(REPO, 'test', 'scenarios', 'ff-fd-race.c')], { stdio: 'pipe' });
  capture = join(scratch, 'capture');
  shifted = join(scratch, 'shifted');
  mkdirSync(capture);
  mkdirSync(shifted);
  // -T and -y, so that the set is exact when its times are in order (ff-fd-race-real.test.ts).
  const traced = spawnSync('strace', ['-ff', '-tt', '-T', '-y', '-e', 'inject=openat:delay_enter=60000', '-o', join(capture, 'trace'), program, join(scratch, 'd'), join(scratch, 'truth')], {
    encoding: 'utf8',
  });
  expect(traced.status, traced.stderr).toBe(0);
  leaks = readFileSync(join(scratch, 'truth'), 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields[0] === 'file' && fields[3] !== 'clean')
    .map((fields) => `${fields[1]} ${fields[2]} ${fields[3] === 'kept' ? 'process-exited' : 'unmapped'}`)
    .sort();
  const names = readdirSync(capture);
  const texts = names.map((name) => readFileSync(join(capture, name), 'utf8').split('\n'));
  const times = texts.flatMap((lines) => lines.map(microseconds).filter((us) => us !== null)).sort((a, b) => a - b);
  const shift = DAY_US - times[times.length >> 1]!;
  names.forEach((name, k) => {
    const lines = texts[k]!.map((line) => {
      const us = microseconds(line);
      return us === null ? line : stamp(us + shift) + line.slice(16);
    });
    writeFileSync(join(shifted, name), lines.join('\n'));
  });
});

async function reported(dir: string): Promise<string[]> {
  const names = readdirSync(dir).map((name) => join(dir, name));
  const analysis = await analyze(names);
  return analysis.engine
    .findings()
    .map((f) => `${f.kind === 'unlinked-while-mapped' ? '' : `${f.kind} `}${f.path} ${f.address} ${f.resolution}`)
    .sort();
}

it('an -ff -tt set that crosses midnight is merged as it ran: the same findings as the program recorded', async () => {
  const lines = readdirSync(shifted).flatMap((name) => readFileSync(join(shifted, name), 'utf8').split('\n'));
  // The shifted set does cross midnight, with most of its lines after it.
  expect(lines.filter((line) => line.startsWith('23:59:')).length).toBeGreaterThan(100);
  expect(lines.filter((line) => line.startsWith('00:00:')).length).toBeGreaterThan(100);
  expect(leaks).toHaveLength(32);
  expect(await reported(capture)).toEqual(leaks);
  expect(await reported(shifted)).toEqual(leaks);
});
