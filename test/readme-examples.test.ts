// The README's examples are what the CLI prints today. Each example block is
// run (the command is written next to it, below) and every line of the block
// other than an ellipsis must appear in the output, in the same order: a
// report that changes its words or its numbers makes this fail until the
// README is updated from the CLI's output.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './support/tools.js';

const README = readFileSync(join(REPO, 'README.md'), 'utf8').split('\n');
const CLI = join(REPO, 'dist', 'cli.js');

/** The lines of the fenced block that follows the first line containing `marker`. */
function blockAfter(marker: string): string[] {
  const at = README.findIndex((line) => line.includes(marker));
  if (at < 0) throw new Error(`README has no line containing ${marker}`);
  const open = README.findIndex((line, index) => index > at && /^`{3,}/.test(line));
  const fence = /^`+/.exec(README[open]!)![0];
  const close = README.findIndex((line, index) => index > open && line === fence);
  return README.slice(open + 1, close);
}

function cli(args: string[]): string {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO, encoding: 'utf8' });
  if (result.error !== undefined) throw result.error;
  return result.stdout;
}

/** Lines of `expected` (ellipses dropped) missing from `output` when read in order. */
function notInOrder(expected: readonly string[], output: string): string[] {
  const lines = output.split('\n');
  let next = 0;
  const missing: string[] = [];
  for (const line of expected) {
    if (line.trim() === '…') continue;
    const found = lines.indexOf(line, next);
    if (found < 0) missing.push(line);
    else next = found + 1;
  }
  return missing;
}

describe('README examples are the CLI output', () => {
  it('"What the report says": analyze of the bundled trace', () => {
    const expected = blockAfter('## What the report says');
    expect(notInOrder(expected, cli(['analyze', 'traces/f-o-ttt-T-y/trace.txt']))).toEqual([]);
  });

  it('the redacted Jira summary', () => {
    const expected = blockAfter('replaces path components with stable short hashes');
    expect(notInOrder(expected, cli(['analyze', 'traces/f-o-ttt-T-y/trace.txt', '--format', 'jira', '--redact']))).toEqual([]);
  });

  it('a finding timeline in Markdown', () => {
    // The README shows the block inside its own fence; the report has it as a ```text block.
    const expected = blockAfter('The same in Markdown, one finding').filter((line) => !line.startsWith('```'));
    expect(notInOrder(expected, cli(['analyze', 'traces/f-o-ttt-T-y/trace.txt', '--format', 'markdown']))).toEqual([]);
  });

  it('"Proving the fix": diff', () => {
    const [command, ...expected] = blockAfter('### Proving the fix');
    expect(command).toBe('$ npx orphanmap diff traces/f-o-ttt-T-y/trace.txt traces/fixed/trace.txt');
    expect(notInOrder(expected, cli(['diff', 'traces/f-o-ttt-T-y/trace.txt', 'traces/fixed/trace.txt']))).toEqual([]);
  });
});
