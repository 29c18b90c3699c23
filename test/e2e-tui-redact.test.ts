// `analyze --tui --redact` in a real terminal (tmux): the screen shows the
// real paths (the operator's own view), and `e` writes Markdown and Jira
// whose every path component is hashed as `analyze --redact` hashes it.
// Expected hashes come from node:crypto here, not from the code under test.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TmuxSession, shellQuote } from './tmux.js';
import { requireTool } from './tools.js';
import { runCli } from './support/tools.js';

const ROOT = new URL('..', import.meta.url).pathname;
const TRACE = join(ROOT, 'traces/f-o-ttt-T-y/trace.txt');
const h = (component: string): string => createHash('sha256').update(component).digest('hex').slice(0, 8);
const REDACTED_DIR = `/tmp/${h('orphanmap-repro')}/${h('f-o-ttt-T-y')}/${h('topic')}-1/`;

let term: TmuxSession | null = null;
const exports = mkdtempSync(join(tmpdir(), 'orphanmap-tui-redact-'));

beforeAll(() => requireTool('tmux'));
afterEach(() => {
  term?.kill();
  term = null;
});
afterAll(() => rmSync(exports, { recursive: true, force: true }));

describe('analyze --tui --redact', () => {
  it("shows real paths on screen and exports Markdown and Jira with the CLI's hashes and no raw name", async () => {
    term = new TmuxSession('tuiredact');
    const command = ['node', join(ROOT, 'dist/cli.js'), 'analyze', TRACE, '--tui', '--redact'].map(shellQuote).join(' ');
    term.start(`cd ${shellQuote(ROOT)} && ORPHANMAP_EXPORT_DIR=${shellQuote(exports)} ${command}; echo "exited with status $?"; sleep 120`, 120, 40);
    const screen = await term.waitForScreen((text) => text.includes('read to the end') && text.includes('? help'), 'the trace to be read', 60_000);
    expect(screen).toContain('/tmp/hsperfdata_root/11020');

    term.send('e');
    const saved = await term.waitForScreen((text) => /F\d+ evidence saved: /.test(text), 'the export');
    const files = readdirSync(exports).filter((name) => /^orphanmap-F\d+-pid11020(\.md|\.jira\.txt)$/.test(name));
    expect(files, saved).toHaveLength(2);

    const cli = runCli(['analyze', TRACE, '--redact', '--format', 'markdown']).stdout;
    for (const name of files) {
      // Markdown and Jira escape punctuation with a backslash: taken out before looking for names.
      const text = readFileSync(join(exports, name), 'utf8').replace(/\\([^A-Za-z0-9\s])/g, '$1');
      expect(text, name).toContain(REDACTED_DIR);
      // The input is named by its absolute path, wherever the repository was cloned: its last components are ours.
      expect(text, name).toContain(`/${h('traces')}/${h('f-o-ttt-T-y')}/${h('trace')}.txt`);
      for (const secret of ['orphanmap-repro', 'f-o-ttt-T-y', 'topic-', 'hsperfdata_root', ROOT.replace(/\/$/, ''), '--tui']) {
        expect(text.includes(secret), `"${secret}" in ${name}`).toBe(false);
      }
      expect(text).not.toContain(h(h('orphanmap-repro')));
    }
    // The exported finding's orphaned path is written as the command line's report writes it.
    const markdown = readFileSync(join(exports, files.find((name) => name.endsWith('.md'))!), 'utf8');
    const path = /`(\/tmp\/[0-9a-f]{8}\/[0-9a-f]{8}\/[0-9a-f]{8}-\d\/\d{20}\.(?:time)?index\.deleted)`/.exec(markdown)?.[1];
    expect(path, markdown.slice(0, 2000)).toBeDefined();
    expect(cli).toContain(path!);
  }, 120_000);
});
