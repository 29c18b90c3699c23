// Review 50 (H2 under strace): the ticket's resize story paired an orphan with
// the first remap at its address, though H2 maps its trace file again at each
// growth and the JVM's Reference Handler unmaps each old mapping a moment
// later, so the addresses are handed out again: the story named another
// mapping's lines. It said "ftruncate" where the file grew by write, "never
// unmapped" of mappings the program unmapped, told a remap after the unlink as
// its cause, and called every remap "a mapping that will outlive its file"
// though the program had unmapped them all.
//
// The truth is the program's own record (test/scenarios/async-unmapped-remaps.py:
// each mapping's address, whether and when it unmapped it, its /proc/self/maps
// "(deleted)" lines after the unlink) and the raw lines of the real strace
// trace it ran under, read here, not by orphanmap.
//
// Needs strace and /usr/bin/python3.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { REPO, requireTool, runCli } from './support/tools.js';

interface Mapping {
  address: string;
  length: number;
  /** When the program unmapped it, against its file's unlink; null: never (it went with the process). */
  unmapped: 'before-unlink' | 'after-unlink' | null;
}

interface FileRecord {
  path: string;
  mappings: Mapping[];
  /** The program's /proc/self/maps lines of the file, "(deleted)", right after its unlink. */
  deleted: string[];
}

interface ProgramRecord {
  pid: number;
  grown: FileRecord;
  kept: FileRecord;
  held: FileRecord;
}

/** One system call of the trace: the line it starts on, its thread, its name, its arguments and its result. */
interface Call {
  line: number;
  tid: number;
  name: string;
  args: string;
  result: string;
}

/** The calls of an `strace -f -ttt -T -y` trace, an `<unfinished ...>` call joined to its resume (placed at its start). */
function calls(trace: string): Call[] {
  const out: Call[] = [];
  const pending = new Map<number, { line: number; name: string; args: string }>();
  trace.split('\n').forEach((text, i) => {
    const line = i + 1;
    const unfinished = /^(\d+) +[\d.]+ (\w+)\((.*) <unfinished \.\.\.>$/.exec(text);
    if (unfinished !== null) {
      pending.set(Number(unfinished[1]), { line, name: unfinished[2]!, args: unfinished[3]! });
      return;
    }
    const resumed = /^(\d+) +[\d.]+ <\.\.\. (\w+) resumed>(.*)\) += (\S+)/.exec(text);
    if (resumed !== null) {
      const start = pending.get(Number(resumed[1]));
      pending.delete(Number(resumed[1]));
      if (start !== undefined) out.push({ line: start.line, tid: Number(resumed[1]), name: start.name, args: start.args + resumed[3]!, result: resumed[4]! });
      return;
    }
    const whole = /^(\d+) +[\d.]+ (\w+)\((.*)\) += (\S+)/.exec(text);
    if (whole !== null) out.push({ line, tid: Number(whole[1]), name: whole[2]!, args: whole[3]!, result: whole[4]! });
  });
  return out;
}

/** A resize story as a report tells it: the lines it names for the mapping, the remap and the unlink, and the rest of its words. */
interface Story {
  mappedLine: number;
  remappedAddress: string;
  remappedLine: number;
  unlinkedLine: number;
  text: string;
}

const STORY =
  /The file `?([^`]+?)`? was mapped at (0x[0-9a-f]+) \([^,]+, line (\d+)\), (.*?)it was mapped again at (0x[0-9a-f]+) \(line (\d+)\), (.*?)the file was unlinked \(line (\d+)\).*?\.(?=\s|$)/gm;

function stories(report: string): Story[] {
  return Array.from(report.matchAll(STORY), (m) => ({
    mappedLine: Number(m[3]),
    remappedAddress: m[5]!,
    remappedLine: Number(m[6]),
    unlinkedLine: Number(m[8]),
    text: m[0],
  }));
}

let record: ProgramRecord;
let trace: Call[];
let traceText: string;
let markdown: string;
let text: string;
let findings: Finding[];
let input: string;

beforeAll(() => {
  requireTool('strace');
  requireTool(PYTHON);
  const dir = workspace('review50');
  input = join(dir, 'trace.txt');
  const run = spawnSync('strace', ['-f', '-ttt', '-T', '-y', '-o', input, PYTHON, join(REPO, 'test', 'scenarios', 'async-unmapped-remaps.py'), join(dir, 'w')], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.status, run.stderr).toBe(0);
  record = JSON.parse(run.stdout) as ProgramRecord;
  traceText = readFileSync(input, 'utf8');
  trace = calls(traceText);
  const md = runCli(['analyze', input, '--format', 'markdown']);
  expect(md.status, md.stderr).toBe(0);
  markdown = md.stdout;
  const plain = runCli(['analyze', input]);
  expect(plain.status, plain.stderr).toBe(0);
  text = plain.stdout;
  const json = runCli(['analyze', input, '--format', 'json']);
  expect(json.status, json.stderr).toBe(0);
  findings = (JSON.parse(json.stdout) as { findings: Finding[] }).findings;
  checkTheProgramsRecord();
}, 90_000);

/** The lines of the program's mmaps of `file`, in the order it made them, each checked against the address it recorded. */
function mmapLines(file: FileRecord): number[] {
  const made = trace.filter((call) => call.name === 'mmap' && call.tid === record.pid && call.args.includes(`<${file.path}>`));
  expect(made.map((call) => call.result)).toEqual(file.mappings.map((mapping) => mapping.address));
  return made.map((call) => call.line);
}

function unlinkLine(file: FileRecord): number {
  const unlinks = trace.filter((call) => call.name === 'unlink' && call.args.startsWith(`"${file.path}"`));
  expect(unlinks).toHaveLength(1);
  return unlinks[0]!.line;
}

/**
 * The resize stories that are true, from the program's record: a mapping live
 * when its file was unlinked (unmapped after, or never) that the program had
 * mapped again before the unlink (its next mapping, made while it lived).
 */
function trueStories(file: FileRecord): { mappedLine: number; remappedAddress: string; remappedLine: number; unlinkedLine: number; unmappedAfter: boolean }[] {
  const lines = mmapLines(file);
  const unlinked = unlinkLine(file);
  return file.mappings.flatMap((mapping, k) => {
    const next = file.mappings[k + 1];
    if (mapping.unmapped === 'before-unlink' || next === undefined || lines[k + 1]! > unlinked) return [];
    return [{ mappedLine: lines[k]!, remappedAddress: next.address, remappedLine: lines[k + 1]!, unlinkedLine: unlinked, unmappedAfter: mapping.unmapped === 'after-unlink' }];
  });
}

/**
 * What the program did, checked before any report is read: the tests stand on
 * it. The newest two mappings of grown.db are at addresses older ones had,
 * which the program unmapped before the unlink; those two were live at the
 * unlink (/proc/self/maps printed them "(deleted)"); it made no truncate; and
 * orphanmap finds those orphans and no other of the file.
 */
function checkTheProgramsRecord(): void {
  const grown = record.grown.mappings;
  // The newest two mappings are at addresses older ones the program unmapped before the unlink had.
  for (const mapping of grown.slice(-2)) expect(grown.slice(0, -2).some((older) => older.address === mapping.address && older.unmapped === 'before-unlink')).toBe(true);
  // Those two were live at the unlink: /proc/self/maps printed them "(deleted)".
  const live = grown.filter((mapping) => mapping.unmapped !== 'before-unlink').map((mapping) => mapping.address.slice(2));
  expect(record.grown.deleted.map((line) => line.split('-')[0])).toEqual(expect.arrayContaining(live));
  expect(record.grown.deleted).toHaveLength(live.length);
  // The program made no truncate: the file grew by write only.
  expect(traceText).not.toMatch(/\bf?truncate\(/);
  // orphanmap finds those orphans, and no other of the file: what follows is about what the reports say of them.
  const orphans = findings.filter((f) => f.kind === 'unlinked-while-mapped' && f.path === record.grown.path).map((f) => f.address);
  expect(orphans.sort()).toEqual(
    grown
      .filter((mapping) => mapping.unmapped !== 'before-unlink')
      .map((mapping) => mapping.address)
      .sort(),
  );
}

describe('a file mapped again at each growth, each old mapping unmapped a moment later by another thread', () => {
  for (const format of ['markdown', 'text'] as const) {
    it(`tells in ${format} only the resize of the mapping the program mapped again before the unlink, with that mapping's lines`, () => {
      const report = format === 'markdown' ? markdown : text;
      const told = stories(report);
      const expected = [...trueStories(record.grown), ...trueStories(record.kept)];
      // One true story here: the older of the two mappings live at the unlink, mapped again before it.
      expect(expected).toHaveLength(1);
      expect(told.length).toBeGreaterThan(0);
      for (const story of told) {
        expect({ mappedLine: story.mappedLine, remappedAddress: story.remappedAddress, remappedLine: story.remappedLine, unlinkedLine: story.unlinkedLine }).toEqual({
          mappedLine: expected[0]!.mappedLine,
          remappedAddress: expected[0]!.remappedAddress,
          remappedLine: expected[0]!.remappedLine,
          unlinkedLine: expected[0]!.unlinkedLine,
        });
        // In the order the program made them: mapped, mapped again, unlinked.
        expect(story.mappedLine).toBeLessThan(story.remappedLine);
        expect(story.remappedLine).toBeLessThan(story.unlinkedLine);
      }
      // kept.db was mapped again only after its unlink: no story of it.
      expect(told.some((story) => story.text.includes(record.kept.path))).toBe(false);
    });

    it(`says in ${format} no truncate the program never made, and no "never unmapped" of a mapping it unmapped`, () => {
      const report = format === 'markdown' ? markdown : text;
      const diagnosis = format === 'markdown' ? report.slice(report.indexOf('## Diagnosis'), report.indexOf('## Findings')) : report.slice(report.indexOf('what it means:'));
      expect(diagnosis.length).toBeGreaterThan(0);
      for (const said of [diagnosis, ...stories(report).map((story) => story.text)]) expect(said).not.toMatch(/truncate/);
      const [truth] = trueStories(record.grown);
      expect(truth!.unmappedAfter).toBe(true);
      // The old mapping of the story: unmapped by the program's other thread after the unlink, on the trace line that shows it.
      const oldAddress = record.grown.mappings.find((_, k) => mmapLines(record.grown)[k] === truth!.mappedLine)!.address;
      const unmappedAt = trace.find((call) => call.name === 'munmap' && call.tid !== record.pid && call.args.startsWith(`${oldAddress},`) && call.line > truth!.unlinkedLine)!;
      for (const story of stories(report)) {
        expect(story.text).not.toContain('never unmapped');
        expect(story.text).toMatch(new RegExp(`unmapped only after the unlink, [\\d.]+ ms later \\(line ${unmappedAt.line}\\)`));
      }
    });

    it(`counts in ${format} the other remaps by how they ended: released, or live to the exit`, () => {
      const report = format === 'markdown' ? markdown : text;
      const paragraph = report.split('\n').find((line) => line.includes('Mapped again without unmapping.'));
      expect(paragraph).toBeDefined();
      // Every mapping the program mapped again while it lived, but the one of the story: the program unmapped all
      // of them but held.db's, which lived until the process exited.
      const files = [record.grown, record.kept, record.held];
      for (const file of files) mmapLines(file);
      const remapped = files.flatMap((file) => file.mappings.slice(0, -1));
      const others = remapped.length - trueStories(record.grown).length;
      const held = record.held.mappings.slice(0, -1).length;
      expect(remapped.filter((mapping) => mapping.unmapped === null)).toHaveLength(held);
      const released = others - held;
      expect(paragraph).toContain(`${others} times a file was mapped again`);
      expect(paragraph).toContain(`How they ended: ${released} unmapped later`);
      expect(paragraph).toContain(`, ${held} released when the process exited.`);
      // That a mapping outlives its file if the file is deleted is said of those held only, not of every one (review 50:
      // "Each is a mapping that will outlive its file when the file is deleted").
      expect(paragraph).not.toContain('Each is a mapping');
      const outlive = paragraph!.split('. ').filter((sentence) => sentence.includes('outlive'));
      expect(outlive).toHaveLength(1);
      expect(outlive[0]).toMatch(held === 1 ? /^The old mapping that stayed live/ : new RegExp(`^The ${held} old mappings that stayed live`));
      expect(paragraph).toContain(`${released} were unmapped later: released.`);
      // No size change the trace shows: the files grew by write.
      expect(paragraph).not.toMatch(/resized|truncate/);
    });
  }

  it('lists the remap that came after the unlink as a finding of its own, not inside the orphan', () => {
    const keptMmaps = mmapLines(record.kept);
    // The program mapped kept.db again only after unlinking it.
    expect(keptMmaps[1]!).toBeGreaterThan(unlinkLine(record.kept));
    const ticket = runCli(['analyze', input, '--format', 'markdown', '--path', 'kept.db']);
    expect(ticket.status, ticket.stderr).toBe(0);
    const sections = ticket.stdout.split('\n### ').slice(1);
    const remap = sections.find((section) => section.startsWith(`F`) && section.includes('remapped-without-unmap (warning)'));
    expect(remap).toBeDefined();
    expect(remap).toMatch(new RegExp(`\\| mapped \\| [^|]*trace\\.txt:${keptMmaps[0]},`));
    expect(remap).toMatch(new RegExp(`\\| mapped again \\| [^|]*trace\\.txt:${keptMmaps[1]},`));
    expect(ticket.stdout).not.toContain('shown inside the unlink finding');
  });
});
