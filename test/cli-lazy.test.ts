// Start-up cost (issue #14, goal 2): src/cli.ts registers every command, but a
// command's work (and ink, React, the capture and evidence code) is loaded
// only when that command runs. The built CLI runs under a module loader hook
// that writes down every module it loads; no timing is involved. The CLI is
// bundled (rolldown.config.mjs): a chunk it loads stands for the modules its
// source map lists, so the modules named below are tsc's, in dist/.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANALYZE_FORMATS } from '../src/commands/analyze.js';
import { DIFF_COMMAND_FORMATS } from '../src/commands/diff.js';
import { DIFF_FORMATS } from '../src/report/diff.js';
import { OUTPUT_FORMATS } from '../src/report/formats.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = join(ROOT, 'dist/cli.js');
const TRACE = join(ROOT, 'traces/f-o-ttt-T-y/trace.txt');
let dir = '';

beforeAll(() => {
  if (!existsSync(CLI)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  dir = mkdtempSync(join(tmpdir(), 'orphanmap-lazy-'));
  // A load hook runs for every module, ESM and CommonJS required from ESM alike.
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.LOADED_MODULES_LOG, url + '\\n');
  return next(url, context);
}
`,
  );
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`);
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

/** The modules the CLI loaded for `args` (dist/… and node_modules/…), Node's own (node:…) apart, and its exit status. */
function loadedBy(args: string[], name: string, env: Record<string, string> = {}): { files: string[]; modules: string[]; builtins: string[]; status: number | null } {
  const log = join(dir, `${name}.log`);
  const result = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env, LOADED_MODULES_LOG: log },
  });
  const urls = existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
    : [];
  const root = pathToFileURL(ROOT).href.replace(/\/$/, '');
  // A package is named from its node_modules/ on, wherever that directory really is (it may be a link).
  const named = (url: string) => (url.includes('/node_modules/') ? url.slice(url.lastIndexOf('/node_modules/') + 1) : url.startsWith(`${root}/`) ? url.slice(root.length + 1) : null);
  const files = urls.map(named).filter((path) => path !== null);
  return { files, modules: files.flatMap(bundled), builtins: urls.filter((url) => url.startsWith('node:')), status: result.status };
}

/** The modules a file of the bundled CLI holds, by its source map (paths from the repository's root); any other file itself. */
function bundled(path: string): string[] {
  if (path !== 'dist/cli.js' && !path.startsWith('dist/cli-chunks/')) return [path];
  const map = join(ROOT, `${path}.map`);
  if (!existsSync(map)) return [path];
  const { sources } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] };
  return sources.map((source) => relative(ROOT, join(ROOT, dirname(path), source)));
}

const inPackage = (modules: string[], name: string) => modules.filter((path) => path.includes(`node_modules/${name}/`));
const under = (modules: string[], prefix: string) => modules.filter((path) => path.startsWith(prefix));

describe('the CLI loads a command only when it runs', () => {
  it('analyze --format json loads neither ink nor React, nor the TUI, capture, evidence or scan code', () => {
    const { modules, status } = loadedBy(['analyze', TRACE, '--format', 'json', '--out', join(dir, 'report.json')], 'analyze');
    expect(status).toBe(0);
    // The hook saw the analysis itself being loaded.
    expect(modules).toContain('dist/commands/analyze-run.js');
    expect(modules).toContain('dist/engine/engine.js');
    expect(inPackage(modules, 'ink')).toEqual([]);
    expect(inPackage(modules, 'react')).toEqual([]);
    expect(under(modules, 'dist/tui/').filter((path) => path !== 'dist/tui/terminal.js')).toEqual([]);
    expect(under(modules, 'dist/capture/').filter((path) => path !== 'dist/capture/scripts.js')).toEqual([]);
    expect(under(modules, 'dist/evidence/')).toEqual([]);
    expect(under(modules, 'dist/scan/')).toEqual([]);
    // Only analyze's work among the commands', and no formatter JSON does not use.
    expect(modules.filter((path) => /^dist\/commands\/.*-run\.js$/.test(path))).toEqual(['dist/commands/analyze-run.js']);
    expect(under(modules, 'dist/report/').filter((path) => /\/(text|markdown|jira|ticket|diff)\.js$/.test(path))).toEqual([]);
  });

  it('runs from the bundle: dist/cli.js and its chunks, not one file per module', () => {
    const { files, modules, status } = loadedBy(['analyze', TRACE, '--format', 'json', '--out', join(dir, 'bundled.json')], 'bundled');
    expect(status).toBe(0);
    const ours = files.filter((path) => path.startsWith('dist/'));
    expect(ours.filter((path) => path !== 'dist/cli.js' && !path.startsWith('dist/cli-chunks/'))).toEqual([]);
    // The bundle is fewer files than the modules it holds (about 80 for analyze).
    expect(ours.length * 2).toBeLessThan(under(modules, 'dist/').length);
  });

  it('starts the second reading thread from the bundle, and its report is the one read in one thread', () => {
    const reports = ['always', 'never'].map((readThread) => {
      const out = join(dir, `thread-${readThread}.json`);
      const { modules, status } = loadedBy(['analyze', TRACE, '--format', 'json', '--out', out], `thread-${readThread}`, { ORPHANMAP_READ_THREAD: readThread });
      expect(status).toBe(0);
      // The worker thread runs the same --import hook (it inherits Node's options): it saw the worker's module loaded.
      expect(modules.includes('dist/ingest/read-worker.js')).toBe(readThread === 'always');
      return readFileSync(out, 'utf8');
    });
    expect(reports[0]).toEqual(reports[1]);
  });

  it('only doctor loads node:child_process (4–9 ms of every start otherwise)', () => {
    const analyzed = loadedBy(['analyze', TRACE, '--format', 'json', '--out', join(dir, 'child.json')], 'child-analyze');
    expect(analyzed.status).toBe(0);
    expect(analyzed.builtins).toContain('node:fs/promises');
    expect(analyzed.builtins).not.toContain('node:child_process');
    const version = loadedBy(['--version'], 'child-version');
    expect(version.status).toBe(0);
    expect(version.builtins).not.toContain('node:child_process');
    const doctor = loadedBy(['doctor'], 'child-doctor');
    expect(doctor.modules).toContain('dist/commands/doctor-run.js');
    expect(doctor.builtins).toContain('node:child_process');
  });

  it('analyze --tui without a terminal does load ink (the hook sees it when it is loaded)', () => {
    const { modules, status } = loadedBy(['analyze', TRACE, '--tui'], 'tui');
    expect(status).toBe(0);
    expect(inPackage(modules, 'ink').length).toBeGreaterThan(0);
    expect(modules).toContain('dist/tui/run.js');
  });

  it('--version and --help load only the registrations: no command does its work', () => {
    for (const args of [['--version'], ['--help'], ['analyze', '--help']]) {
      const { modules, status } = loadedBy(args, args.join(''));
      expect(status).toBe(0);
      expect(modules.filter((path) => /^dist\/commands\/.*-run\.js$/.test(path))).toEqual([]);
      expect(modules.filter((path) => path.startsWith('dist/') && !/^dist\/(cli|errors|commands\/[a-z]+|report\/sanitize|capture\/scripts)\.js$/.test(path))).toEqual([]);
      expect(modules.filter((path) => path.includes('node_modules/') && !path.includes('node_modules/commander/'))).toEqual([]);
    }
  });
});

describe('format lists spelled out for registration', () => {
  it('are the lists the report code owns', () => {
    expect([...ANALYZE_FORMATS]).toEqual([...OUTPUT_FORMATS]);
    expect([...DIFF_COMMAND_FORMATS]).toEqual([...DIFF_FORMATS]);
  });
});
