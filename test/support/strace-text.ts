// strace -f's text as a reader of its lines expects it: each call whole on
// one line. strace cuts a call whose line another process's came between
// (`301 … fcntl(5, F_DUPFD_CLOEXEC, 0 <unfinished ...>`, later
// `301 … <... fcntl resumed>) = 6`); how often depends on the machine's load,
// so a test that looks for a call's line must join them first, or it fails
// on a busy machine only.

const UNFINISHED = ' <unfinished ...>';
const RESUMED = /^(\d+) +[\d:.]+ <\.\.\. \w+ resumed>(.*)$/;

/** `text` with each cut call joined at the place of its first half, as strace prints it when nothing comes between. */
export function wholeCalls(text: string): string {
  const lines: (string | null)[] = text.split('\n');
  const cut = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const pid = /^(\d+) /.exec(line)?.[1];
    if (pid === undefined) continue;
    if (line.endsWith(UNFINISHED)) {
      cut.set(pid, i);
      continue;
    }
    const resumed = RESUMED.exec(line);
    const first = cut.get(pid);
    if (resumed === null || first === undefined) continue;
    lines[first] = lines[first]!.slice(0, -UNFINISHED.length) + resumed[2];
    lines[i] = null;
    cut.delete(pid);
  }
  return lines.filter((line) => line !== null).join('\n');
}
