// NDJSON is a stream: report output gathers text in batches (issue #14), and
// a reader following a trace that is still being written must still get each
// finding once the input read so far has been analysed, not at the end.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from './support/tools.js';

const TRACE_SO_FAR = ['openat(AT_FDCWD, "/d/a", O_RDWR) = 3', 'mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000', 'unlink("/d/a") = 0', ''].join('\n');

describe('analyze - --format ndjson on a trace still being written', () => {
  it('writes the finding before the input ends', async () => {
    const child = spawn(process.execPath, [CLI, 'analyze', '-', '--format', 'ndjson'], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.write(TRACE_SO_FAR);
    let stdout = '';
    // The input stays open until the first line is out: without it, this waits for the test's timeout.
    const firstLine = await new Promise<string>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`exited (${code}) before writing a line: ${stdout}`)));
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        const end = stdout.indexOf('\n');
        if (end >= 0) resolve(stdout.slice(0, end));
      });
    });
    expect(JSON.parse(firstLine)).toMatchObject({ kind: 'unlinked-while-mapped', path: '/d/a', address: '0x10000', resolution: null });
    child.removeAllListeners('exit');
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.stdin.end();
    expect(await exited).toBe(0);
  });
});
