// What each input the user named is: a file, stdin, a capture bundle, or
// strace -ff files to merge. Decided from the file system and the content,
// never from a file name alone.
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MAX_TID, parseStraceLine, tidFromDigits } from '../parse/strace-line.js';
import { InputError } from '../errors.js';
import { readFailure, stdinSource, type LineSource } from './lines.js';
import { type ReadThread, traceFileSource } from './threaded-source.js';
import { loadBundle, type Bundle } from './bundle.js';
import type { FfSet } from './ff-set.js';

/** One input as the user named it, resolved to what must be read. */
export type Input =
  /** `ffSet`: the file is the only one read of a strace -ff set. */
  { type: 'stream'; source: LineSource; defaultTid: number; ffSet?: FfSet } | { type: 'ff-set'; files: { path: string; tid: number }[]; ffSet: FfSet } | { type: 'bundle'; bundle: Bundle };

export async function resolveInputs(paths: readonly string[], readThread?: ReadThread): Promise<Input[]> {
  const inputs: Input[] = [];
  const ffGroups = new Map<string, { path: string; tid: number }[]>();
  for (const path of paths) {
    if (path === '-') {
      inputs.push({ type: 'stream', source: stdinSource(), defaultTid: 0 });
      continue;
    }
    const info = await stat(path).catch((error: unknown) => {
      throw new InputError(readFailure(error), path, { cause: error });
    });
    if (info.isDirectory()) {
      const entries = await readdir(path).catch((error: unknown) => {
        throw new InputError(readFailure(error), path, { cause: error });
      });
      if (entries.includes('meta.json')) {
        inputs.push({ type: 'bundle', bundle: await loadBundle(path) });
        continue;
      }
      // A directory of strace -ff files.
      const ff = entries.filter((entry) => /\.\d+$/.test(entry)).sort();
      if (ff.length === 0) throw new InputError('is a directory with neither meta.json (a bundle) nor strace -ff files (NAME.<tid>)', path);
      for (const entry of ff) addFf(ffGroups, join(path, entry));
      continue;
    }
    if (/\.\d+$/.test(path) && (await looksLikeFf(path))) addFf(ffGroups, path);
    else inputs.push({ type: 'stream', source: await traceFileSource(path, readThread), defaultTid: 0 });
  }
  for (const [prefix, files] of ffGroups) {
    const ffSet: FfSet = { prefix, tids: new Set(files.map((file) => file.tid)) };
    if (files.length === 1) inputs.push({ type: 'stream', source: await traceFileSource(files[0]!.path, readThread), defaultTid: files[0]!.tid, ffSet });
    else inputs.push({ type: 'ff-set', files: files.sort((a, b) => a.tid - b.tid), ffSet });
  }
  return inputs;
}

async function readHead(path: string, bytes: number): Promise<string> {
  const handle = await open(path, 'r').catch((error: unknown) => {
    throw new InputError(readFailure(error), path, { cause: error });
  });
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('latin1');
  } finally {
    await handle.close();
  }
}

function addFf(groups: Map<string, { path: string; tid: number }[]>, path: string): void {
  const dot = path.lastIndexOf('.');
  const prefix = join(dirname(path), basename(path.slice(0, dot)));
  const tid = tidFromDigits(path.slice(dot + 1));
  // A name whose number no thread can have is no strace -ff file's: its lines would be taken for a thread that never was.
  if (Number.isNaN(tid)) throw new InputError(`its name ends in .${path.slice(dot + 1)}, as a strace -ff file's would, but that is no thread id (1 to ${MAX_TID}): rename it to analyze it`, path);
  const list = groups.get(prefix) ?? [];
  list.push({ path, tid });
  groups.set(prefix, list);
}

/** trace.<tid> files have no pid prefix; anything else with a numeric suffix is read as-is. */
async function looksLikeFf(path: string): Promise<boolean> {
  const head = await readHead(path, 4096);
  const first = head.split('\n').find((line) => line.trim().length > 0);
  if (first === undefined) return true;
  const record = parseStraceLine(first);
  return record.type !== 'bad' && (!('tid' in record) || record.tid === null);
}
