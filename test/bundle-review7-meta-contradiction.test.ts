// Review 7, item 7: a bundle's meta.json may say nothing was traced
// ("attached": false, or an exitReason of a tracer that failed, timed out, or
// came after its process exited), and orphanmap then refuses a verdict. A
// bundle whose trace holds events was traced, whatever it says: a meta.json
// edited to say otherwise hid two errors behind that refusal (`--fail-on
// error` exited 2, `diff` refused it). Now the events are analysed, and a
// warning names the contradiction.
//
// A real capture (`orphanmap capture` with strace) of a real program that maps
// and unlinks two files; its truth is its own /proc/self/maps. Needs strace.
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../src/engine/findings.js';
import { EXIT_FINDINGS } from '../src/errors.js';
import { PYTHON, workspace } from './scenarios/harness.js';
import { CLI, requireTool, runCli } from './support/tools.js';

const PROGRAM = [
  'import json, mmap, os, sys',
  'held = []',
  'for k in range(2):',
  '    p = os.path.join(sys.argv[1], f"seg-{k}.index")',
  '    f = open(p, "w+b"); f.truncate(8192); held.append((f, mmap.mmap(f.fileno(), 8192)))',
  '    os.unlink(p)',
  'deleted = [line.split()[0].split("-")[0] for line in open("/proc/self/maps") if line.rstrip().endswith(" (deleted)") and "seg-" in line]',
  'print(json.dumps(sorted("0x" + a for a in deleted)), flush=True)',
].join('\n');

let dir = '';
let bundle = '';
let truth: string[] = [];

beforeAll(() => {
  requireTool('strace');
  dir = workspace('meta-contradiction');
  bundle = join(dir, 'bundle');
  const capture = spawnSync(process.execPath, [CLI, 'capture', '--backend', 'strace', '--out', bundle, '--', PYTHON, '-c', PROGRAM, dir], { encoding: 'utf8', timeout: 60_000 });
  expect(capture.status, capture.stderr).toBe(0);
  // The command's own output comes on capture's stderr (its stdout is the bundle's path).
  truth = JSON.parse(capture.stderr.split('\n').find((line) => line.startsWith('['))!) as string[];
  expect(truth).toHaveLength(2);
}, 90_000);

function errorsOf(stdout: string): string[] {
  const findings = (JSON.parse(stdout) as { findings: Finding[] }).findings;
  return findings
    .filter((finding) => finding.severity === 'error')
    .map((finding) => finding.address)
    .sort();
}

describe('a bundle whose meta.json says nothing was traced, while its trace holds events', () => {
  it.each([
    ['"attached": false', { attached: false }],
    ['"exitReason": "tracer-failed"', { attached: null, exitReason: 'tracer-failed' }],
    ['"exitReason": "target-exited-before-attach"', { exitReason: 'target-exited-before-attach' }],
  ])('%s: its findings are reported, --fail-on error fails on them, and a warning names the contradiction', (said, edit) => {
    const edited = join(dir, `edited-${Object.values(edit).join('-')}`);
    cpSync(bundle, edited, { recursive: true });
    const meta = JSON.parse(readFileSync(join(edited, 'meta.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(edited, 'meta.json'), JSON.stringify({ ...meta, ...edit }));
    const result = runCli(['analyze', edited, '--format', 'json', '--fail-on', 'error']);
    expect(result.status, result.stderr).toBe(EXIT_FINDINGS);
    expect(errorsOf(result.stdout)).toEqual(truth);
    const warnings = (JSON.parse(result.stdout) as { warnings: string[] }).warnings;
    expect(warnings.filter((warning) => warning.includes('meta.json says'))).toEqual([expect.stringContaining(said)]);
    expect(warnings.filter((warning) => warning.includes('proves nothing'))).toEqual([]);
    // diff takes it as it takes any traced bundle.
    const diff = runCli(['diff', bundle, edited]);
    expect(diff.status, diff.stderr).toBe(0);
  });

  it('the unedited bundle: the same findings, no such warning', () => {
    const result = runCli(['analyze', bundle, '--format', 'json']);
    expect(result.status, result.stderr).toBe(0);
    expect(errorsOf(result.stdout)).toEqual(truth);
    expect((JSON.parse(result.stdout) as { warnings: string[] }).warnings.filter((warning) => warning.includes('meta.json says'))).toEqual([]);
  });
});
