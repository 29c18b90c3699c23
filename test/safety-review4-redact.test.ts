// Review 4, item 4: --redact hashed a path in a string argument but left it
// whole in a -y annotation whose name held a raw < or >: strace writes them
// \74 and \76, but a crafted trace (or maybe an older strace) need not. The
// truth is the trace's own text: no word of the secret name may reach any
// format, and the annotation hashes as the finding's path does.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { redactText } from '../src/report/redact.js';
import type { Report } from '../src/report/report.js';
import { runCli } from './support/tools.js';

/** The review's trace: /tmp/secret<customer>.index opened, mapped, closed and unlinked, its annotations raw. */
const FIXTURE = readFileSync(join(import.meta.dirname, 'fixtures', 'review4', 'redact-gt.txt'), 'utf8');
const SECRET = /secret|customer|cust|omer/;

/** The same trace with the name spelled otherwise: a lone >, < and > inside words and after a space. */
const NAMES = ['secret<customer>', 'secret>customer', 'se<cr>et <cust>omer>', 'secret<char 1:3>customer'];

describe.each(NAMES)('a trace of /tmp/%s.index with raw annotations', (name) => {
  const dir = mkdtempSync(join(tmpdir(), 'orphanmap-review4-redact-'));
  const trace = join(dir, 'trace.txt');
  writeFileSync(trace, FIXTURE.replaceAll('secret<customer>', name));

  it('is one finding named so, as the trace has it', () => {
    const plain = JSON.parse(runCli(['analyze', trace, '--format', 'json']).stdout) as Report;
    expect(plain.findings.map((f) => f.path)).toEqual([`/tmp/${name}.index`]);
  });

  it('names none of it in any format under --redact, and hashes the annotations as the path', () => {
    for (const format of ['text', 'json', 'ndjson', 'markdown', 'jira']) {
      const run = runCli(['analyze', trace, '--format', format, '--redact']);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout, format).not.toMatch(SECRET);
      expect(run.stderr, format).not.toMatch(SECRET);
    }
    const report = JSON.parse(runCli(['analyze', trace, '--format', 'json', '--redact']).stdout) as Report;
    const [finding] = report.findings;
    expect(finding?.path).toMatch(/^\/tmp\/[0-9a-f]{8}\.index$/);
    const annotated = finding!.evidence.filter((line) => line.text.includes('5</'));
    expect(annotated).toHaveLength(3);
    for (const line of annotated) expect(line.text).toContain(`5<${finding!.path}>`);
  });

  it('names none of it in any file of report --out --redact', () => {
    const out = join(dir, 'evidence');
    const run = runCli(['report', trace, '--out', out, '--redact']);
    expect(run.status, run.stderr).toBe(0);
    for (const file of readdirSync(out)) expect(readFileSync(join(out, file), 'utf8'), file).not.toMatch(SECRET);
  });
});

describe('redactText of annotations', () => {
  it('keeps what it kept: -yy device suffixes, sockets, annotations that end an argument or a line', () => {
    const dev = redactText('read(3</dev/null<char 1:3>>, "", 10) = 0');
    expect(dev).toMatch(/^read\(3<\/dev\/[0-9a-f]{8}<char 1:3>>, "", 10\) = 0$/);
    expect(redactText('close(3<TCP:[10.0.0.1:9092->10.0.0.2:5555]>) = 0')).toBe('close(3<TCP:[10.0.0.1:9092->10.0.0.2:5555]>) = 0');
    expect(redactText('dup2(3</acme/a>, 4</acme/b>) = 4</acme/b> <0.000010>')).not.toMatch(/acme/);
    expect(redactText('dup2(3</acme/a>, 4</acme/b>) = 4</acme/b> <0.000010>')).toMatch(/^dup2\(3<(\/[0-9a-f]{8}){2}>, 4<(\/[0-9a-f]{8}){2}>\) = 4<(\/[0-9a-f]{8}){2}> <0\.000010>$/);
  });

  it('reads a line of a million annotation starts in linear time', () => {
    for (const [line, word] of [
      ['1</'.repeat(300_000), '1</1'],
      [`1</${'a>b'.repeat(300_000)}`, 'a>b'],
      ['5</x<y>z, '.repeat(100_000), 'x<y>z'],
    ] as const) {
      const start = performance.now();
      expect(redactText(line)).not.toContain(word);
      expect(performance.now() - start).toBeLessThan(2000);
    }
  });
});
