// --redact: every expected value is written out here, not computed by the
// code under test. A component's hash is the first 8 hex digits of its
// SHA-256, as `printf %s NAME | sha256sum | cut -c1-8` prints it:
//   kafka-logs 716b37d0   orders 1c168adb   kafka cbbf241e   data 3a6eb079
//   "a\nb" (a, newline, b) 7e18f737
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { analyze } from '../src/ingest/analyze.js';
import { redactComponent, redactFinding, redactPath, redactText, shortHash } from '../src/report/redact.js';
import { REPO } from './support/tools.js';

describe('redact', () => {
  it('hashes a name with the first 8 hex digits of its SHA-256', () => {
    expect(shortHash('kafka-logs')).toBe('716b37d0');
    expect(shortHash('a\nb')).toBe('7e18f737');
  });

  it('hashes topic and host directories but keeps suffixes, offsets and system directories', () => {
    expect(redactPath('/tmp/kafka-logs/orders-3/00000000000000001000.index.deleted')).toBe('/tmp/716b37d0/1c168adb-3/00000000000000001000.index.deleted');
    expect(redactPath('/tmp/hsperfdata_kafka/4871')).toBe('/tmp/hsperfdata_cbbf241e/4871');
    expect(redactComponent('proc')).toBe('proc');
  });

  it('redacts the same file the same way in strace arguments, -y annotations and maps lines', () => {
    const path = '/data/orders-3/00000000000000001000.index';
    const redacted = '/3a6eb079/1c168adb-3/00000000000000001000.index';
    const line = `4871 mmap(NULL, 24, PROT_READ, MAP_SHARED, 5<${path}>, 0) = 0x7f00 ; rename("${path}", "${path}.deleted")`;
    expect(redactText(line)).toBe(`4871 mmap(NULL, 24, PROT_READ, MAP_SHARED, 5<${redacted}>, 0) = 0x7f00 ; rename("${redacted}", "${redacted}.deleted")`);
    expect(redactText(`7f60-7f61 rw-s 00000000 fe:00 21 ${path}.deleted (deleted)`)).toBe(`7f60-7f61 rw-s 00000000 fe:00 21 ${redacted}.deleted (deleted)`);
  });

  it('decodes strace escapes before hashing, so raw lines match decoded finding paths', () => {
    // strace prints the newline in the name as \n; the name hashed is a, newline, b.
    expect(redactText(String.raw`unlink("/data/a\nb/0.index")`)).toBe('unlink("/3a6eb079/7e18f737/0.index")');
    expect(redactPath('/data/a\nb/0.index')).toBe('/3a6eb079/7e18f737/0.index');
  });
});

describe('redactFinding', () => {
  it('reads the evidence only when asked, and then redacted (a redacted report stays lazy)', async () => {
    const analysis = await analyze([`${REPO}/traces/f-o-ttt-T-y/trace.txt`]);
    const finding = analysis.engine.findings()[0]!;
    let reads = 0;
    const counted = Object.create(null) as typeof finding;
    for (const key of Object.keys(finding) as (keyof typeof finding)[]) {
      if (key === 'evidence')
        Object.defineProperty(counted, 'evidence', {
          enumerable: true,
          get: () => {
            reads++;
            return finding.evidence;
          },
        });
      else Object.defineProperty(counted, key, { enumerable: true, value: finding[key] });
    }
    const redacted = redactFinding(counted);
    expect(reads).toBe(0);
    expect(Object.keys(redacted)).toEqual(Object.keys(finding));
    const lines = redacted.evidence;
    expect(reads).toBe(1);
    const topic = createHash('sha256').update('orphanmap-repro').digest('hex').slice(0, 8);
    expect(lines.length).toBe(finding.evidence.length);
    expect(lines.every((line) => !line.text.includes('orphanmap-repro'))).toBe(true);
    expect(lines.some((line) => line.text.includes(topic))).toBe(true);
  });
});
