// Review 2, finding 5: the TUI's `e`, run as root in a directory another user
// can write to, wrote its files through a link that user planted at the
// export directory's name (./orphanmap-export-DATE-TIME, predictable). The
// export directory is now made or checked as `report --out`'s is, and the
// files created through its descriptor; the directories above it are walked
// as `report --out`'s are (another user's link on the way refused: found by
// review 10's writer of safe-path.ts). The attacker is a real process of an
// unprivileged user (nobody), planting with ln and mkdir.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultExportDir, ExportError, exportTarget } from '../src/tui/export.js';
import { handMadeFinding } from './support/finding.js';

const NOBODY = 65534;
const finding = handMadeFinding('F8', '/kafka/t-0/00000000000000000000.index');
const context = { command: 'orphanmap analyze trace.txt' };

/** A working directory nobody owns (as root's cwd), and a root-only directory elsewhere. */
function scene(): { work: string; vault: string } {
  const top = mkdtempSync(join(tmpdir(), 'orphanmap-rv2-export-'));
  chmodSync(top, 0o755);
  const work = join(top, 'work');
  mkdirSync(work);
  chownSync(work, NOBODY, NOBODY);
  const vault = mkdtempSync(join(tmpdir(), 'orphanmap-rv2-vault-'));
  return { work, vault };
}

function asNobody(command: string, args: string[]): void {
  const result = spawnSync(command, args, { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} as nobody: ${result.stderr}`);
}

describe("the TUI's export directory", () => {
  it('a link planted at the default name, to a root-only directory: refused, nothing written there', async () => {
    const { work, vault } = scene();
    const dir = defaultExportDir(new Date(2026, 0, 1, 12, 0, 0), work);
    asNobody('ln', ['-s', vault, dir]);
    const error = await exportTarget(dir, context)
      .write(finding)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExportError);
    expect((error as Error).message).toMatch(/orphanmap-export-20260101-120000 is a symbolic link; choose a directory of your own/);
    expect(readdirSync(vault)).toEqual([]);
  });

  it("another user's link as a directory above it (E naming a path through it): refused, nothing made where it leads", async () => {
    const { work, vault } = scene();
    const link = join(work, 'tickets');
    asNobody('ln', ['-s', vault, link]);
    const error = await exportTarget(join(link, 'F8'), context)
      .write(finding)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExportError);
    expect((error as Error).message).toContain(`cannot export to ${join(link, 'F8')}: ${link} is a symbolic link of another user (uid ${NOBODY}), which orphanmap never follows`);
    expect(readdirSync(vault)).toEqual([]);
  });

  it("E naming directories to make below another user's link: refused, none made where it leads", async () => {
    const { work, vault } = scene();
    const link = join(work, 'tickets');
    asNobody('ln', ['-s', vault, link]);
    const target = exportTarget(join(work, 'unused'), context);
    target.setDir(join(link, 'new', 'deeper', 'F8'));
    const error = await target.write(finding).catch((caught: unknown) => caught);
    expect((error as Error).message).toContain(`${link} is a symbolic link of another user (uid ${NOBODY}), which orphanmap never follows`);
    expect(readdirSync(vault)).toEqual([]);
  });

  it('E naming directories to make in a directory of our own: made, the export written there', async () => {
    const { vault } = scene();
    const target = exportTarget(join(vault, 'unused'), context);
    target.setDir(join(vault, 'new', 'deeper', 'F8'));
    const result = await target.write(finding);
    expect(result.files).toHaveLength(2);
    expect(readdirSync(join(vault, 'new', 'deeper', 'F8')).sort()).toEqual([`orphanmap-F8-pid${finding.pid}.jira.txt`, `orphanmap-F8-pid${finding.pid}.md`]);
  });

  it('a directory planted at the name by another user: refused, nothing written in it', async () => {
    const { work } = scene();
    const dir = join(work, 'orphanmap-export-x');
    asNobody('mkdir', ['-m', '0755', dir]);
    const error = await exportTarget(dir, context)
      .write(finding)
      .catch((caught: unknown) => caught);
    expect((error as Error).message).toContain(`belongs to uid ${NOBODY}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('$ORPHANMAP_EXPORT_DIR or E naming a directory others may write to (/tmp): refused', async () => {
    const error = await exportTarget(tmpdir(), context)
      .write(finding)
      .catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/others may write to it \(mode 1?777\)/);
  });

  it('a link planted at a file name inside an export directory of ours: the file gets the next name, the link is not followed', async () => {
    const { vault } = scene();
    const dir = join(mkdtempSync(join(tmpdir(), 'orphanmap-rv2-export-own-')), 'exports');
    const target = exportTarget(dir, context);
    await target.write(finding);
    // Only the owner can plant here: a link left by the owner (or an older run) is not followed either.
    spawnSync('ln', ['-s', join(vault, 'x.md'), join(dir, 'orphanmap-F8-pid1-2.md')]);
    const second = await target.write(finding);
    expect(second.files.map((file) => file.split('/').pop())).toEqual(['orphanmap-F8-pid1-3.md', 'orphanmap-F8-pid1-2.jira.txt']);
    expect(readdirSync(vault)).toEqual([]);
    expect(statSync(dir).mode & 0o777).toBe(0o755);
  });
});
