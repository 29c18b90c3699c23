// Each decoder builds its event in one object literal (strace-decode.ts):
// the keys must stay in the order they always had, the kind's fields, then
// the header (place, time, seconds, tid, raw), then the extras the event has
// (lines, lineTimes, comm, rebuilt). Anything that serialises events shows
// that order; a literal with its header first, or an extra forgotten, fails here.
import { describe, expect, it } from 'vitest';
import { type ParseOutput, StraceReader } from '../src/parse/strace.js';

const LINES: string[] = [
  '100 1795606335.100001 execve("/bin/java", ["java"], 0x7ffd /* 3 vars */) = 0',
  '100 1795606335.100002 open("/a", O_RDONLY|O_CLOEXEC) = 3</a>',
  '100 1795606335.100003 openat(AT_FDCWD</w>, "/b", O_RDWR) = 4</b>',
  '100 1795606335.100004 close(3</a>) = 0',
  '100 1795606335.100005 close_range(5, 10, CLOSE_RANGE_CLOEXEC) = 0',
  '100 1795606335.100006 dup3(4</b>, 9, O_CLOEXEC) = 9</b>',
  '100 1795606335.100007 fcntl(4</b>, F_DUPFD_CLOEXEC, 10) = 11</b>',
  '100 1795606335.100008 fcntl(4</b>, F_SETFD, FD_CLOEXEC) = 0',
  '100 1795606335.100009 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 4</b>, 0) = 0x7f0000000000',
  '100 1795606335.100010 munmap(0x7f0000000000, 4096) = 0',
  '100 1795606335.100011 mremap(0x7f0000000000, 4096, 8192, MREMAP_MAYMOVE) = 0x7f0000100000',
  '100 1795606335.100012 ftruncate(4</b>, 8192) = 0',
  '100 1795606335.100013 truncate("/b", 0) = 0',
  '100 1795606335.100014 rename("/b", "/c") = 0',
  '100 1795606335.100015 link("/c", "/d") = 0',
  '100 1795606335.100016 renameat2(AT_FDCWD, "/c", AT_FDCWD, "/e", RENAME_EXCHANGE) = 0',
  '100 1795606335.100017 linkat(AT_FDCWD, "/e", 7</x>, "f", 0) = 0',
  '100 1795606335.100018 unlink("/d") = 0',
  '100 1795606335.100019 unlinkat(AT_FDCWD, "/dir", AT_REMOVEDIR) = 0',
  '100 1795606335.100020 chdir("/tmp") = 0',
  '100 1795606335.100021 fchdir(4</b>) = 0',
  '100 1795606335.100022 clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0}, 88) = 101',
  '100 1795606335.100023 clone(child_stack=NULL, flags=CLONE_VM) = -1 EAGAIN (x)',
  '101<C2 Compiler> 1795606335.100024 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 4</b>, 0 <unfinished ...>',
  '100 1795606335.100025 close(4</b> <unfinished ...>',
  '101<C2 Compiler> 1795606335.100026 <... mmap resumed>) = 0x7f0000200000',
  '100 1795606335.100027 <... close resumed>) = 0',
  '100 1795606335.100028 unlink("/e") = 0\r',
  '100 1795606335.100029 unlink("/estrace: Process 102 attached',
  '") = 0',
  '100 1795606335.100030 close(4) = -1 EIO (x)',
  '100 1795606335.100031 execveat(3, "x", [], [], 0) = 0',
];

const EXPECTED = [
  'exec: kind,path,place,time,seconds,tid,raw',
  'open: kind,dir,path,fd,cloexec,resolvedHint,place,time,seconds,tid,raw',
  'open: kind,dir,path,fd,cloexec,resolvedHint,place,time,seconds,tid,raw',
  'close: kind,fd,place,time,seconds,tid,raw',
  'close-range: kind,low,high,cloexecOnly,unshare,place,time,seconds,tid,raw',
  'dup: kind,oldFd,newFd,cloexec,oldHint,place,time,seconds,tid,raw',
  'dup: kind,oldFd,newFd,cloexec,oldHint,place,time,seconds,tid,raw',
  'set-cloexec: kind,fd,cloexec,place,time,seconds,tid,raw',
  'mmap: kind,address,length,prot,flags,fd,offset,fdHint,place,time,seconds,tid,raw',
  'munmap: kind,address,length,place,time,seconds,tid,raw',
  'mremap: kind,oldAddress,oldLength,newLength,flags,newAddress,place,time,seconds,tid,raw',
  'truncate: kind,fd,length,fdHint,place,time,seconds,tid,raw',
  'truncate: kind,path,dir,length,place,time,seconds,tid,raw',
  'rename: kind,oldDir,oldPath,newDir,newPath,exchange,place,time,seconds,tid,raw',
  'link: kind,oldDir,oldPath,newDir,newPath,place,time,seconds,tid,raw',
  'rename: kind,oldDir,oldPath,newDir,newPath,exchange,place,time,seconds,tid,raw',
  'link: kind,oldDir,oldPath,newDir,newPath,place,time,seconds,tid,raw',
  'unlink: kind,dir,path,removeDir,place,time,seconds,tid,raw',
  'unlink: kind,dir,path,removeDir,place,time,seconds,tid,raw',
  'chdir: kind,path,place,time,seconds,tid,raw',
  'chdir: kind,fd,fdHint,place,time,seconds,tid,raw',
  'clone: kind,childTid,flags,place,time,seconds,tid,raw',
  'clone: kind,childTid,flags,place,time,seconds,tid,raw',
  'close: kind,fd,place,time,seconds,tid,raw,lines',
  'mmap: kind,address,length,prot,flags,fd,offset,fdHint,place,time,seconds,tid,raw,lines,lineTimes,comm',
  'unlink: kind,dir,path,removeDir,place,time,seconds,tid,raw,rebuilt',
  'unlink: kind,dir,path,removeDir,place,time,seconds,tid,raw,rebuilt',
  'close: kind,fd,place,time,seconds,tid,raw',
  'exec: kind,path,place,time,seconds,tid,raw',
];

describe('decoded strace events', () => {
  it('keep their keys in order: fields, header, extras', () => {
    const reader = new StraceReader('t');
    const out: ParseOutput[] = [];
    for (const [k, line] of LINES.entries()) reader.push(line, k + 1, out);
    reader.end(out);
    const keys = out.flatMap((output) => (output.type === 'event' ? [`${output.event.kind}: ${Object.keys(output.event).join(',')}`] : []));
    expect(keys).toEqual(EXPECTED);
  });
});
