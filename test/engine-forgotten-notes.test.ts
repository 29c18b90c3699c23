// A close, unlink or munmap is noted in its file's evidence only if the file
// is still known once the call has done its work (files.ts,
// noteUnlessForgotten): a file nothing holds and nothing names can have no
// finding, so what it keeps is never read. Each case here is a file that
// looks forgotten but is not: its evidence must hold every call.
import { describe, expect, it } from 'vitest';
import { runEngine, trace } from './support/trace-text.js';

function evidenceTexts(text: string): string[][] {
  const { engine } = runEngine(text);
  return engine.findings().map((finding) => engine.evidenceOf(finding).map((line) => line.text));
}

describe('calls noted only on files still known', () => {
  it('notes the close of one fd while a dup of it holds the file', () => {
    const text = trace`
      1 openat(AT_FDCWD, "/d/a", O_RDWR|O_CREAT, 0644) = 3
      1 dup(3) = 4
      1 close(3) = 0
      1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 4, 0) = 0x10000
      1 close(4) = 0
      1 unlink("/d/a") = 0
    `;
    expect(evidenceTexts(text)).toEqual([text.split('\n')]);
  });

  it('notes the close of a file that was closed and unmapped, then opened again by name', () => {
    const text = trace`
      1 openat(AT_FDCWD, "/d/a", O_RDWR|O_CREAT, 0644) = 3
      1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000
      1 close(3) = 0
      1 munmap(0x10000, 4096) = 0
      1 openat(AT_FDCWD, "/d/a", O_RDWR) = 3
      1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x20000
      1 unlink("/d/a") = 0
    `;
    const lines = text.split('\n');
    // The last munmap forgot the first file (no fd, no mapping, no finding): the name now leads to a new one.
    expect(evidenceTexts(text)).toEqual([[lines[4], lines[5], lines[6]]]);
  });

  it('notes the unlink of one of two names, and the munmap of one of two mappings', () => {
    const text = trace`
      1 openat(AT_FDCWD, "/d/a", O_RDWR|O_CREAT, 0644) = 3
      1 link("/d/a", "/d/b") = 0
      1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000
      1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x20000
      1 close(3) = 0
      1 unlink("/d/a") = 0
      1 munmap(0x10000, 4096) = 0
      1 unlink("/d/b") = 0
    `;
    expect(evidenceTexts(text)).toEqual([text.split('\n')]);
  });

  it('notes a close and the munmap after the finding, the file gone and held by it alone', () => {
    const text = trace`
      1 openat(AT_FDCWD, "/d/a", O_RDWR|O_CREAT, 0644) = 3
      1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000
      1 unlink("/d/a") = 0
      1 close(3) = 0
      1 munmap(0x10000, 4096) = 0
    `;
    expect(evidenceTexts(text)).toEqual([text.split('\n')]);
  });

  it("ends a finding's evidence at the munmap that resolved it: a close after is the file's, not the finding's", () => {
    const text = trace`
      1 openat(AT_FDCWD, "/d/a", O_RDWR|O_CREAT, 0644) = 3
      1 mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = 0x10000
      1 unlink("/d/a") = 0
      1 munmap(0x10000, 4096) = 0
      1 close(3) = 0
    `;
    expect(evidenceTexts(text)).toEqual([text.split('\n').slice(0, 4)]);
  });
});
