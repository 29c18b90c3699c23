// The review 10 capture tests' scenario: a C target (test/scenarios/review10-target.c)
// that maps many files under a deep path, forks a traced child, and exits
// when told. Not a test file itself.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO, requireTool } from '../support/tools.js';

/** Compiles review10-target.c into `dir`; returns the binary's path. */
export function compileTarget(dir: string): string {
  requireTool('cc');
  const binary = join(dir, 'review10-target');
  execFileSync('cc', ['-O2', '-o', binary, join(REPO, 'test', 'scenarios', 'review10-target.c')], { stdio: 'pipe' });
  return binary;
}

export interface Target {
  child: ChildProcess;
  pid: number;
  /** The deep directory that holds f00000, f00001…: the files it mapped. */
  files: string;
  /** Makes it fork its child; resolves with the child's pid. */
  fork: () => Promise<number>;
  /** Makes it exit (after its fork). */
  exit: () => void;
}

/** Starts the target in `dir` with `files` files and `extra` more mappings of the first; resolves once it has mapped them all. */
export async function startTarget(binary: string, dir: string, files: number, extra: number, started: ChildProcess[]): Promise<Target> {
  const base = join(dir, 'files');
  const go = join(dir, 'go');
  const child = spawn(binary, [base, String(files), String(extra), go], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = (await lines.next()).value as string;
  if (first !== `mapped ${child.pid}`) throw new Error(`the target said ${JSON.stringify(first)}`);
  let deep = base;
  while (deep.length + 2 < 3900) deep += '/a';
  return {
    child,
    pid: child.pid!,
    files: deep,
    fork: async () => {
      writeFileSync(`${go}.fork`, '');
      const ready = ((await lines.next()).value as string).split(' ');
      return Number(ready[2]);
    },
    exit: () => writeFileSync(go, ''),
  };
}
