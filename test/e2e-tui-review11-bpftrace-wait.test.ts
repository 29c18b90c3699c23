// `live --backend bpftrace` says what it waits for while bpftrace compiles
// its probes (review 11): the view starts once the tracer has attached, and
// for 8 s or more the screen held only "tracing with bpftrace; …". The words
// are on stderr, so the run without a terminal (NDJSON) shows them as well.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireTool, runCli } from './support/tools.js';

describe('live --backend bpftrace before it attaches', () => {
  it('says that it waits for bpftrace to attach, and how long that takes, before bpftrace has attached', () => {
    requireTool('bpftrace');
    const bundle = join(mkdtempSync(join(tmpdir(), 'orphanmap-r11-bt-wait-')), 'bundle');
    const { status, stderr } = runCli(['live', '--save', bundle, '--backend', 'bpftrace', '--', 'true']);
    expect(status).toBe(0);
    const lines = stderr.split('\n');
    const waiting = lines.indexOf('orphanmap: waiting for bpftrace to attach (it compiles its probes first: 8-40 s)…');
    expect(waiting).toBe(lines.indexOf(`orphanmap: tracing with bpftrace; the bundle is saved in ${bundle}`) + 1);
    expect(waiting).toBeLessThan(lines.findIndex((line) => line.includes('bpftrace attached')));
  }, 55_000);
});
