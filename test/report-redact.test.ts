import { describe, expect, it } from 'vitest';
import { redactComponent, redactPath, redactText, shortHash } from '../src/report/redact.js';

describe('redact', () => {
  it('hashes topic and host directories but keeps suffixes, offsets and system directories', () => {
    expect(redactPath('/tmp/kafka-logs/orders-3/00000000000000001000.index.deleted')).toBe(
      `/tmp/${shortHash('kafka-logs')}/${shortHash('orders')}-3/00000000000000001000.index.deleted`,
    );
    expect(redactPath('/tmp/hsperfdata_kafka/4871')).toBe(`/tmp/hsperfdata_${shortHash('kafka')}/4871`);
    expect(redactComponent('proc')).toBe('proc');
  });

  it('redacts the same file the same way in strace arguments, -y annotations and maps lines', () => {
    const path = '/data/orders-3/00000000000000001000.index';
    const line = `4871 mmap(NULL, 24, PROT_READ, MAP_SHARED, 5<${path}>, 0) = 0x7f00 ; rename("${path}", "${path}.deleted")`;
    const redacted = redactText(line);
    const expected = redactPath(path);
    expect(redacted).toBe(`4871 mmap(NULL, 24, PROT_READ, MAP_SHARED, 5<${expected}>, 0) = 0x7f00 ; rename("${expected}", "${expected}.deleted")`);
    expect(redactText(`7f60-7f61 rw-s 00000000 fe:00 21 ${path}.deleted (deleted)`)).toBe(`7f60-7f61 rw-s 00000000 fe:00 21 ${expected}.deleted (deleted)`);
  });

  it('decodes strace escapes before hashing, so raw lines match decoded finding paths', () => {
    expect(redactText(String.raw`unlink("/data/a\nb/0.index")`)).toBe(`unlink("${redactPath('/data/a\nb/0.index')}")`);
  });
});
