// Review 61, F-3: whether a call's text shows strace -y's annotation of an
// fd, whatever the fd is (a file's path, a socket's, a pipe's or an
// anonymous inode's, as strace 6.1 prints them), and not a -T time or an
// "<unfinished ...>" mark, which follow a space, a "<" in a string, or -Y's
// name of a process (code review 63, F2).
import { expect, it } from 'vitest';
import { annotatesAnFd } from '../src/parse/strace.js';

it.each([
  ['close(25<TCP:[127.0.0.1:11315->127.0.0.1:49952]>) = 0 <0.000025>', true],
  ['close(3<socket:[123456]>) = 0', true],
  ['close(4<UNIX-STREAM:[123456->123457]>) = 0', true],
  ['read(5<anon_inode:[eventfd]>, "\\1\\0\\0\\0\\0\\0\\0\\0", 8) = 8', true],
  ['pipe2([6<pipe:[1234]>, 7<pipe:[1234]>], O_CLOEXEC) = 0', true],
  ['dup(3</tmp/f>) = 4</tmp/f>', true],
  ['accept4(3, NULL, NULL, SOCK_CLOEXEC) = 8<TCP:[1.2.3.4:80->5.6.7.8:9]>', true],
  ['close(25) = 0 <0.000025>', false],
  ['futex(0x7f0000001000, FUTEX_WAIT_PRIVATE, 2, NULL <unfinished ...>', false],
  ['write(1, "a1<b", 4) = 4 <0.000010>', false],
  ['mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000 <0.000005>', false],
  // -Y names processes, not fds (code review 63, F2).
  ['clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 7681<python3>', false],
  ['wait4(7681<python3>, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 7681<python3>', false],
  ['bpf(BPF_MAP_CREATE, {map_type=BPF_MAP_TYPE_HASH}, 72) = 3<anon_inode:bpf-map>', true],
])('%s: %s', (text, annotated) => {
  expect(annotatesAnFd(text, text.indexOf('(') + 1)).toBe(annotated);
});
