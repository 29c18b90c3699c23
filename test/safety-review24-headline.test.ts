// Review 24 (attack), F4: the headline of an undecided verdict ("no mapping
// was seen to outlive its file, but the trace may miss some: process N
// called chroot at FILE:LINE, …") names the trace file, which a bundle's
// meta.json names (traceFiles), and the text report and the evidence
// directory's README.txt printed it raw: a hostile bundle's escape sequences
// (a window title, colours, OSC 52 clipboard writes) reached the terminal of
// whoever analyzed it. Every other view escaped it already.
//
// A real bundle (traces/launched-late-snapshot) with its trace renamed to a
// name holding ESC and BEL and a chroot line added, as the review made it.
import { cpSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const REAL = join(REPO, 'traces', 'launched-late-snapshot', 'bundle');
const HOSTILE = 't\u001b]0;PWNED\u0007\u001b[31m.txt';

function hostileBundle(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-review24-headline-')), 'bundle');
  cpSync(REAL, dir, { recursive: true });
  const trace = readFileSync(join(dir, 'trace.txt'), 'utf8').split('\n');
  // A chroot the engine cannot follow, by the traced process, after its first call.
  trace.splice(1, 0, '2129<python3> 1796139371.492000 chroot("/tmp") = 0 <0.000010>');
  writeFileSync(join(dir, 'trace.txt'), trace.join('\n'));
  renameSync(join(dir, 'trace.txt'), join(dir, HOSTILE));
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Record<string, unknown>;
  meta.traceFiles = [HOSTILE];
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
  return dir;
}

describe('a bundle whose trace file is named with escape sequences, and a verdict that names it (review 24, F4)', () => {
  const bundle = hostileBundle();

  it('analyze: the headline says the trace may miss some, and names the file escaped', () => {
    const result = runCli(['analyze', bundle]);
    expect(result.status, result.stderr).toBe(0);
    const headline = result.stdout.split('\n')[0]!;
    expect(headline).toMatch(/^orphanmap: 1 mapping outlived its file in process 2129 \(.*\); the trace may miss some: process 2129 called chroot at /);
    expect(headline).toContain('t\\x1b]0;PWNED\\x07\\x1b[31m.txt:2');
    expect(result.stdout).not.toMatch(/[\u001b\u0007]/);
  });

  it('report: README.txt holds the same headline, escaped', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'orphanmap-review24-headline-out-')), 'evidence');
    const result = runCli(['report', bundle, '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    const readme = readFileSync(join(out, 'README.txt'), 'utf8');
    expect(readme).toContain('t\\x1b]0;PWNED\\x07\\x1b[31m.txt:2');
    expect(readme).not.toMatch(/[\u001b\u0007]/);
    expect(result.stderr).not.toMatch(/[\u001b\u0007]/);
  });
});
