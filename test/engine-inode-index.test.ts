// Files by inode (files.ts, Files.byInode): keyed by device, then inode
// number, not by a `dev:ino` string built for every event. One inode number
// on two devices is two files; an inode number past 2^32 is itself; a file
// freed gives its inode number back to the next file created.
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/engine.js';
import type { Inode, TraceEvent } from '../src/parse/events.js';

let line = 0;
function at(): { place: { file: string; line: number }; time: null; seconds: null; tid: number; raw: string } {
  line++;
  return { place: { file: 'trace.txt', line }, time: null, seconds: null, tid: 100, raw: `event ${line}` };
}

const open = (path: string, fd: number, inode: Inode): TraceEvent => ({ ...at(), kind: 'open', dir: { fd: 'cwd' }, path, fd, cloexec: false, inode });
const mmap = (fd: number, address: number, inode: Inode): TraceEvent => ({ ...at(), kind: 'mmap', address, length: 4096, prot: 3, flags: 1, fd, offset: 0, inode });
const munmap = (address: number): TraceEvent => ({ ...at(), kind: 'munmap', address, length: 4096 });
const close = (fd: number): TraceEvent => ({ ...at(), kind: 'close', fd });
const unlink = (path: string, inode: Inode): TraceEvent => ({ ...at(), kind: 'unlink', dir: { fd: 'cwd' }, path, removeDir: false, inode, nlinkAfter: 0 });

describe('files by inode', () => {
  it('tells one inode number on two devices apart, and finds a large one by itself', () => {
    const engine = new Engine();
    const events = [
      open('/d/a', 3, { dev: 1, ino: 7 }),
      mmap(3, 0x10000, { dev: 1, ino: 7 }),
      open('/d/b', 4, { dev: 2, ino: 7 }),
      mmap(4, 0x20000, { dev: 2, ino: 7 }),
      open('/d/c', 5, { dev: 1, ino: 2 ** 40 + 1 }),
      mmap(5, 0x30000, { dev: 1, ino: 2 ** 40 + 1 }),
      // Unlinked by inode, under a name the trace never gave it.
      unlink('/elsewhere/b', { dev: 2, ino: 7 }),
      // Another inode number, one above /d/c's: no file of the trace.
      unlink('/elsewhere/c', { dev: 1, ino: 2 ** 40 + 2 }),
    ];
    for (const event of events) engine.apply(event);
    engine.finish();
    expect(engine.findings().map((finding) => [finding.path, finding.address])).toEqual([['/d/b', '0x20000']]);
  });

  it('gives a freed file’s inode number to the next file made, on its device only', () => {
    const engine = new Engine();
    const events = [
      open('/d/a', 3, { dev: 2, ino: 9 }),
      open('/d/b', 4, { dev: 2, ino: 10 }),
      mmap(3, 0x10000, { dev: 2, ino: 9 }),
      unlink('/d/a', { dev: 2, ino: 9 }),
      // Unmapped and closed: /d/a is freed, and its inode number with it.
      munmap(0x10000),
      close(3),
      open('/d/new', 6, { dev: 2, ino: 9 }),
      mmap(6, 0x40000, { dev: 2, ino: 9 }),
      unlink('/d/new', { dev: 2, ino: 9 }),
      // /d/b (the device's other inode) is still found by its inode.
      mmap(4, 0x50000, { dev: 2, ino: 10 }),
      unlink('/gone/b', { dev: 2, ino: 10 }),
    ];
    for (const event of events) engine.apply(event);
    engine.finish();
    expect(engine.findings().map((finding) => [finding.path, finding.names, finding.resolution])).toEqual([
      ['/d/a', ['/d/a'], 'unmapped'],
      ['/d/new', ['/d/new'], 'still-mapped'],
      ['/d/b', ['/d/b'], 'still-mapped'],
    ]);
  });
});
