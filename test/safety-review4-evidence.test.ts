// Review 4, item 3: `report --out` wrote environment.json with plain
// JSON.stringify, so a bidi override or a C1 control in meta.json, or in an
// input's name, reached it raw while report.json escaped them. Every JSON file
// of an evidence directory is display-safe, and JSON.parse reads back the
// same values.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from './support/tools.js';

const REAL = join(REPO, 'traces', 'launched-late-snapshot', 'bundle');
/** An override (U+202E), CSI (U+009B), a line separator, a soft hyphen and a tag character. */
const HOSTILE = 'gpj\u202eexe\u009b2J\u2028x\u00ady\u{e0041}';
/** What must not stand raw in a file meant to be shown: controls beyond C0, format and invisible characters. */
const RAW = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;

let bundle: string;
let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'orphanmap-review4-ev-'));
  const parent = join(root, `dir${HOSTILE}`);
  mkdirSync(parent);
  bundle = join(parent, 'bundle');
  cpSync(REAL, bundle, { recursive: true });
  const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as Record<string, unknown>;
  for (const field of ['kernel', 'hostname', 'comm', 'jvmVersion', 'tracerVersion']) meta[field] = `${field}-${HOSTILE}`;
  writeFileSync(join(bundle, 'meta.json'), JSON.stringify(meta));
});

describe('report --out on a bundle whose meta.json and name hold such characters', () => {
  for (const redact of [false, true]) {
    it(`writes every JSON file display-safe, reading back the same values${redact ? ' (redacted)' : ''}`, () => {
      const out = join(root, `ev-${redact}`);
      const run = runCli(['report', bundle, '--out', out, ...(redact ? ['--redact'] : [])]);
      expect(run.status, run.stderr).toBe(0);
      const jsons = readdirSync(out).filter((name) => name.endsWith('.json'));
      expect(jsons.sort()).toEqual(['environment.json', 'report.json']);
      for (const name of jsons) {
        const text = readFileSync(join(out, name), 'utf8');
        const raw = [...text].filter((char) => char !== '\n' && RAW.test(char));
        expect(
          raw.map((char) => `U+${char.codePointAt(0)!.toString(16)}`),
          name,
        ).toEqual([]);
      }
      const environment = JSON.parse(readFileSync(join(out, 'environment.json'), 'utf8')) as { capture: Record<string, unknown>; analysis: { inputs: { path: string }[] } };
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { environment: Record<string, unknown>; inputs: { path: string }[] };
      // The same values as report.json holds: escapes in the text, not changes to the values.
      expect(environment.capture).toEqual(report.environment);
      expect(environment.analysis.inputs.map((input) => input.path)).toEqual(report.inputs.map((input) => input.path));
      if (!redact) {
        expect(environment.capture.kernel).toBe(`kernel-${HOSTILE}`);
        expect(environment.capture.jvmVersion).toBe(`jvmVersion-${HOSTILE}`);
        expect(environment.analysis.inputs[0]!.path).toContain(`dir${HOSTILE}/bundle/trace.txt`);
        expect(readFileSync(join(out, 'environment.json'), 'utf8')).toContain('gpj\\u202eexe\\u009b2J\\u2028x\\u00ady\\udb40\\udc41');
      }
    });
  }
});
