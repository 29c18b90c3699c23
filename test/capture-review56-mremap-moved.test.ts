import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { captureUntilEnded, DELETED_MAPS_THEN_WAIT, PYTHON } from './scenarios/harness.js';
import { requireTool, runCli } from './support/tools.js';

/** Maps 4 KiB of log.bin, unlinks it, resizes the mapping to 256 KiB, writes its "(deleted)" maps lines to truth.txt, and waits to be ended. */
const PROGRAM = `
import mmap, os, time
name = os.path.abspath("log.bin")
with open(name, "w+b") as f:
    f.truncate(4096)
    m = mmap.mmap(f.fileno(), 4096)
os.unlink(name)
m.resize(262144)
${DELETED_MAPS_THEN_WAIT}`;

beforeAll(() => {
  for (const tool of ['strace', PYTHON]) requireTool(tool);
});

it('a leaked mapping moved by mremap is one finding, and maps-end.txt finds it where it went', () => {
  const { bundle, truth } = captureUntilEnded('review56-mremap-moved', PROGRAM, 'strace', 3);
  expect(truth).toHaveLength(1);
  const [start, end] = truth[0]!
    .split(' ')[0]!
    .split('-')
    .map((hex) => Number.parseInt(hex, 16));
  expect(end! - start!).toBe(262144);

  const report = JSON.parse(runCli(['analyze', bundle, '--format', 'json']).stdout) as { findings: Finding[]; summary: { mappingsInDoubt: number } };
  const leaks = report.findings.filter((finding) => finding.kind === 'unlinked-while-mapped');
  expect(leaks).toHaveLength(1);
  const [leak] = leaks;
  // What it held at the unlink, and where it went; the capture ended the command once it had read its maps.
  expect([leak!.length, leak!.heldLater?.address, leak!.heldLater?.length, leak!.heldLater?.by, leak!.resolution]).toEqual([4096, `0x${start!.toString(16)}`, 262144, 'mremap', 'process-exited']);
  expect(readFileSync(join(bundle, 'trace.txt'), 'utf8').split('\n')[leak!.heldLater!.at.line - 1]).toContain('mremap(');
  expect(report.summary.mappingsInDoubt).toBe(0);
  const text = runCli(['analyze', bundle]).stdout;
  expect(text.split('\n')[0]).toBe(`orphanmap: 1 mapping outlived its file in process ${leak!.pid} (4.0 KiB held when unlinked; still mapped at the end: none, 1 released when the process exited).`);
  expect(text).toContain(`moved by mremap to 0x${start!.toString(16)}-0x${end!.toString(16)} (256.0 KiB)`);
  // The ticket's mapping row too (review 58, F7).
  expect(runCli(['analyze', bundle, '--format', 'markdown']).stdout).toContain(`moved by mremap to 0x${start!.toString(16)}-0x${end!.toString(16)} (256.0 KiB)`);
  // NDJSON's last line of it says so too.
  const lines = runCli(['analyze', bundle, '--format', 'ndjson'])
    .stdout.split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Finding);
  expect(lines.filter((line) => line.id === leak!.id).at(-1)).toEqual(leak);
});
