// `orphanmap live --redact` without a terminal (as root, under strace): each
// NDJSON line is redacted as it is written, with the hashes `analyze --redact`
// gives the finished bundle. Expected hashes come from node:crypto here.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO, requireTool } from './support/tools.js';

const h = (component: string): string => createHash('sha256').update(component).digest('hex').slice(0, 8);
const scratch = mkdtempSync(join(tmpdir(), 'orphanmap-live-redact-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const schema = JSON.parse(readFileSync(join(REPO, 'docs', 'report.schema.json'), 'utf8')) as { $id: string };
const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
ajv.addSchema(schema);
const validateFinding = ajv.getSchema(`${schema.$id}#/$defs/finding`) as ValidateFunction;

type Line = { id: string; path: string; names: string[]; evidence: { file: string; text: string }[] };

beforeAll(() => requireTool('strace'));

describe('live --redact without a terminal', () => {
  it('writes NDJSON lines redacted as analyze --redact redacts the finished bundle', () => {
    // A program that maps a file in a directory with a customer's name, then unlinks the file while it is mapped.
    const dir = join(scratch, 'customer-acme', 'orders-3');
    mkdirSync(dir, { recursive: true });
    const program = [
      'import mmap, os, sys',
      'p = os.path.join(sys.argv[1], "00000000000000000000.index")',
      'f = open(p, "w+b"); f.truncate(4096); m = mmap.mmap(f.fileno(), 4096)',
      'os.unlink(p); m.close(); f.close()',
    ].join('\n');
    const bundle = join(scratch, 'bundle');
    const live = spawnSync(process.execPath, [CLI, 'live', '--redact', '--save', bundle, '--', 'python3', '-c', program, dir], { encoding: 'utf8', timeout: 100_000 });
    expect(live.status, live.stderr).toBe(0);
    const lines = live.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Line);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(validateFinding(line), JSON.stringify(validateFinding.errors)).toBe(true);

    const redacted = `${h('customer-acme')}/${h('orders')}-3/00000000000000000000.index`;
    const last = new Map(lines.map((line) => [line.id, line]));
    const orphan = [...last.values()].find((line) => line.path.endsWith(redacted));
    expect(orphan, live.stdout).toBeDefined();
    for (const secret of ['customer-acme', 'orders-3', 'orphanmap-live-redact']) expect(live.stdout.includes(secret), `"${secret}" in live's NDJSON`).toBe(false);

    const analyzed = spawnSync(process.execPath, [CLI, 'analyze', bundle, '--format', 'json', '--redact'], { encoding: 'utf8' });
    expect(analyzed.status, analyzed.stderr).toBe(0);
    const report = JSON.parse(analyzed.stdout) as { findings: Line[] };
    const same = report.findings.find((finding) => finding.id === orphan!.id)!;
    expect([orphan!.path, orphan!.names]).toEqual([same.path, same.names]);
    expect(orphan!.evidence.map((line) => line.text)).toEqual(same.evidence.slice(0, orphan!.evidence.length).map((line) => line.text));
  }, 120_000);
});
