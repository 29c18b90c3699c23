// Node decodes its command line as UTF-8 with U+FFFD for each byte that is
// no part of it, so `--path $'/srv/\xff.map'` would reach orphanmap as a name
// no reader gives (review 27, F5: every reader keeps such a byte as U+DC00
// plus the byte, parse/byte-names.ts). The arguments' own bytes are in
// /proc/self/cmdline.
import { readFileSync } from 'node:fs';
import { decodeBytes } from '../parse/byte-names.js';

/**
 * `argv` (process.argv: node, the script, the arguments) with each argument
 * that holds a U+FFFD decoded again from its bytes as the name readers do.
 * /proc/self/cmdline ends with the same arguments (node's own options come
 * before the script); an argument is taken from it only when Node's decoding
 * of those bytes is that argument, else argv is returned as it is.
 */
export function argvFromBytes(argv: readonly string[], cmdline: () => Buffer = () => readFileSync('/proc/self/cmdline')): string[] {
  const args = argv.slice(2);
  if (!args.some((arg) => arg.includes('\ufffd'))) return [...argv];
  let bytes: Buffer;
  try {
    bytes = cmdline();
  } catch {
    return [...argv];
  }
  const entries: Buffer[] = [];
  for (let from = 0; from < bytes.length; ) {
    const nul = bytes.indexOf(0, from);
    entries.push(bytes.subarray(from, nul < 0 ? bytes.length : nul));
    from = nul < 0 ? bytes.length : nul + 1;
  }
  const tail = entries.slice(entries.length - args.length);
  if (tail.length !== args.length || tail.some((entry, i) => entry.toString('utf8') !== args[i])) return [...argv];
  return [...argv.slice(0, 2), ...tail.map((entry, i) => (args[i]!.includes('\ufffd') ? decodeBytes(entry) : args[i]!))];
}
