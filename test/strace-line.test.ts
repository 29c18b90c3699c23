import { describe, expect, it } from 'vitest';
import { decodeCString, parseStraceLine } from '../src/parse/strace-line.js';
import { parseFdArg, splitCall } from '../src/parse/strace-args.js';

// Lines as strace 6.1 prints them, mostly taken from runs of a small C test
// program; docs/trace-formats.md lists each shape with a line from traces/.
describe('strace line prefixes', () => {
  it('reads "-f -o" pid prefixes', () => {
    const r = parseStraceLine('13725 <... openat resumed>)             = 5');
    expect(r).toMatchObject({ type: 'call', status: 'resumed', name: 'openat', tid: 13725, body: ')             = 5' });
  });

  it('reads "[pid N]" prefixes printed to stderr', () => {
    const r = parseStraceLine('[pid 13734] rseq(0x7f6ffe7cffe0, 0x20, 0, 0x53053053 <unfinished ...>');
    expect(r).toMatchObject({ type: 'call', status: 'unfinished', name: 'rseq', tid: 13734 });
  });

  it('keeps -Y thread names, unescaping < and >', () => {
    const r = parseStraceLine('14004<kafka\\74log\\76 cleaner> close(50)                = 0');
    expect(r).toMatchObject({ type: 'call', tid: 14004, comm: 'kafka<log> cleaner', name: 'close' });
  });

  it('reads lines without a pid prefix', () => {
    const r = parseStraceLine('mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f6cd7cdf000');
    expect(r).toMatchObject({ type: 'call', tid: null, name: 'mmap', time: null });
  });

  it.each([
    ['13762 18:16:32 openat(AT_FDCWD, "/f", O_RDONLY) = 5', '18:16:32', 65792],
    ['13771 18:16:32.478150 openat(AT_FDCWD, "/f", O_RDONLY) = 5', '18:16:32.478150', 65792.47815],
    ['13778 1795544192.489878 openat(AT_FDCWD, "/f", O_RDONLY) = 5', '1795544192.489878', 1795544192.489878],
    // biome-ignore lint/correctness/noPrecisionLoss: nanoseconds past a double's precision are what this case is about (the parser gives the nearest double)
    ['13789 1795544192.498693445 openat(AT_FDCWD, "/f", O_RDONLY) = 5', '1795544192.498693445', 1795544192.498693445],
    ['13806 1795544192 openat(AT_FDCWD, "/f", O_RDONLY) = 5', '1795544192', 1795544192],
    ['1795544205.994495 close(3) = 0', '1795544205.994495', 1795544205.994495],
    ['1795544192 close(3) = 0', '1795544192', 1795544192],
  ])('reads the timestamp of %s', (line, time, seconds) => {
    const r = parseStraceLine(line);
    expect(r).toMatchObject({ type: 'call', time });
    expect((r as { seconds: number }).seconds).toBeCloseTo(seconds, 5);
  });

  it('reads -r relative timestamps, alone and after -t', () => {
    expect(parseStraceLine('13816      0.000543 openat(AT_FDCWD, "/f", O_RDONLY) = 5')).toMatchObject({ tid: 13816, relative: 0.000543, time: null });
    expect(parseStraceLine('13834 18:16:32 (+     0.000479) openat(AT_FDCWD, "/f", O_RDONLY) = 5')).toMatchObject({ tid: 13834, time: '18:16:32', relative: 0.000479 });
  });

  it('skips -n syscall numbers and -i instruction pointers', () => {
    expect(parseStraceLine('[ 257] openat(AT_FDCWD, "/f", O_RDONLY) = 3')).toMatchObject({ type: 'call', name: 'openat' });
    expect(parseStraceLine('[00007f7b1a6bb011] openat(AT_FDCWD, "/f", O_RDONLY) = 3')).toMatchObject({ type: 'call', name: 'openat' });
  });

  it('reads exit, kill and superseded markers and signals', () => {
    expect(parseStraceLine('14198 +++ killed by SIGKILL +++')).toMatchObject({ type: 'exit', how: 'killed by SIGKILL', tid: 14198 });
    expect(parseStraceLine('+++ exited with 0 +++')).toMatchObject({ type: 'exit', how: 'exited with 0', tid: null });
    expect(parseStraceLine('14174 +++ superseded by execve in pid 14175 +++')).toMatchObject({ type: 'exit', supersededBy: 14175 });
    expect(parseStraceLine('14199 --- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---')).toMatchObject({ type: 'signal' });
  });

  it('reads strace messages and turns junk into a bad record', () => {
    expect(parseStraceLine('strace: Process 14181 attached with 3 threads')).toMatchObject({ type: 'message', attachedPid: 14181 });
    expect(parseStraceLine('\u0000\u0001binary junk')).toMatchObject({ type: 'bad' });
    expect(parseStraceLine('12345 ')).toMatchObject({ type: 'bad' });
  });
});

describe('strace arguments', () => {
  it('finds the closing parenthesis even when a path contains ") = "', () => {
    const split = splitCall('AT_FDCWD, "/data/x y) = 3.bin", O_RDONLY) = 3');
    expect(split).toEqual({ args: ['AT_FDCWD', '"/data/x y) = 3.bin"', 'O_RDONLY'], ret: '3' });
  });

  it('keeps -y annotations with commas and escaped > in one argument', () => {
    const split = splitCall('NULL, 4096, PROT_READ, MAP_SHARED, 3</data/we\\76ird, x.bin>, 0) = 0x7f06f123f000 <0.000062>');
    expect(split?.args[4]).toBe('3</data/we\\76ird, x.bin>');
    expect(split?.ret).toBe('0x7f06f123f000');
    expect(parseFdArg(split!.args[4]!)).toEqual({ fd: 3, hint: '/data/we>ird, x.bin' });
  });

  it('reads -yy socket and device annotations and (deleted)', () => {
    expect(splitCall('4<TCP:[127.0.0.1:52130->127.0.0.1:53855]>, F_DUPFD_CLOEXEC, 0) = 15')?.args).toHaveLength(3);
    expect(parseFdArg('7</dev/null<char 1:3>>')).toEqual({ fd: 7, hint: '/dev/null' });
    expect(parseFdArg('9</data/demo/files/data-0.bin.deleted>(deleted)')).toEqual({ fd: 9, hint: '/data/demo/files/data-0.bin.deleted', deleted: true });
  });

  it('decodes octal, hex and C escapes as UTF-8 bytes', () => {
    expect(decodeCString('caf\\303\\251-\\342\\230\\203.bin')).toBe('café-☃.bin');
    expect(decodeCString('caf\\xc3\\xa9')).toBe('café');
    expect(decodeCString('new\\nline \\"q\\" back\\\\slash')).toBe('new\nline "q" back\\slash');
    expect(decodeCString('\\0001')).toBe('\u00001');
  });
});
