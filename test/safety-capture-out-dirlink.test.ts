// `orphanmap capture --out DIR`, run as root: the capture script opened the
// directory that holds DIR by its path, so a symbolic link that another user
// (the real user nobody) planted as a directory of that path sent root's
// bundle (a directory of root's, mode 0700, and the trace of the target) where
// that user chose (found by review 10's writer of safe-path.ts; the reports'
// outputs were fixed then, this one was not). orphanmap now walks to that
// directory as it does for reports (a link followed only if it is root's or
// the user's own) and hands it to the script open (--out-parent-fd).
//
// Real strace, a real command; the truth is what the directories hold.
// Needs root and strace.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { asNobody, NOBODY, nobodysHomeBesideVault } from './support/nobody.js';
import { requireTool, runCli, runCliAsync } from './support/tools.js';

interface Scene {
  /** A directory nobody owns, where nobody plants links. */
  home: string;
  /** A directory only root may write. */
  vault: string;
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('test/safety-capture-out-dirlink.test.ts must run as root (as capture does on a broker)');
  requireTool('strace');
});

const scene = (): Scene => nobodysHomeBesideVault('orphanmap-capture-dirlink-');

// The swapper's loop, killed after each test whatever its end: a test that timed out never reached its own `finally`,
// and the loop ran on for an hour, through the next CI run, and kept the run's scratch directory from being removed.
const swappers: ChildProcess[] = [];
afterEach(() => {
  for (const swapper of swappers.splice(0)) swapper.kill('SIGKILL');
});

const capture = (out: string) => runCli(['capture', '--backend', 'strace', '--out', out, '--', 'true']);

describe('capture --out through a link', () => {
  it("another user's link as a directory: refused before anything runs, naming the link and its owner; nothing made where it leads", () => {
    const s = scene();
    const link = join(s.home, 'captures');
    asNobody(`ln -s '${s.vault}' '${link}'`);
    const result = capture(join(link, 'bundle'));
    expect(result.status, result.stderr).toBe(2);
    expect(result.stderr).toContain(`${link} is a symbolic link of another user (uid ${NOBODY}), which orphanmap never follows; name a path without it`);
    expect(result.stderr).not.toContain('capturing with strace');
    expect(readdirSync(s.vault)).toEqual([]);
  });

  it("a link of root's: followed, the bundle made where it leads", () => {
    const s = scene();
    const link = join(mkdtempSync(join(tmpdir(), 'orphanmap-capture-roots-')), 'captures');
    symlinkSync(s.vault, link);
    const result = capture(join(link, 'bundle'));
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(join(s.vault, 'bundle', 'meta.json'))).toBe(true);
  });

  it("root's link in nobody's directory, swapped for nobody's own around captures: no bundle ever lands in root's directory", async () => {
    const s = scene();
    const landing = join(s.home, 'landing');
    asNobody(`mkdir '${landing}'`);
    const rootsLink = join(s.home, 'captures');
    symlinkSync(landing, rootsLink);
    // nobody may rename root's link: the directory is theirs and not sticky.
    const swap = `cd '${s.home}' && while :; do mv -T captures kept; ln -s '${s.vault}' captures; mv -fT kept captures; sleep 0.01; done`;
    const swapper = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'sh', '-c', swap], { stdio: 'ignore' });
    swappers.push(swapper);
    const outcomes = new Set<string>();
    try {
      for (let round = 0; round < 12; round++) {
        const result = await runCliAsync(['capture', '--backend', 'strace', '--out', join(rootsLink, `b${round}`), '--', 'true']);
        outcomes.add(result.status === 0 ? 'made' : (/error: (cannot open [^\n]*)/.exec(result.stderr)?.[1]?.replace(/.*: /, '') ?? result.stderr));
        expect(readdirSync(s.vault)).toEqual([]);
      }
    } finally {
      swapper.kill('SIGKILL');
    }
    for (const outcome of outcomes) expect(outcome).toMatch(/^(made|.*(symbolic link of another user|was replaced while it was read|no such directory).*)$/);
    // Twelve whole captures beside the swapper's loop: 27 s in a CI run, 47 s here beside two loops an earlier timed-out
    // run had leaked (see afterEach); the rounds are what the test needs, not their pace.
  }, 240_000);
});
