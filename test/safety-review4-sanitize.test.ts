// Review 4, item 6: characters that draw as nothing (the soft hyphen, Hangul
// fillers, variation selectors, tag characters…) reached every view raw, and
// in the TUI a row with them lost its columns. The truth for "invisible" is
// Unicode's own tables (Cf, Default_Ignorable_Code_Point, as V8's ICU has
// them), and for "columns" string-width, the width function ink draws with.
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import stringWidth from 'string-width';
import { afterEach, describe, expect, it } from 'vitest';
import { formatReport, ndjsonLine } from '../src/report/formats.js';
import { safeJson } from '../src/report/json.js';
import { redaction } from '../src/report/redact.js';
import { buildReport } from '../src/report/report.js';
import { escapeControl } from '../src/report/sanitize.js';
import { formatText } from '../src/report/text.js';
import { analyze } from '../src/ingest/analyze.js';
import { App } from '../src/tui/App.js';
import { storeFromTrace } from './tui-fixture.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'review4');
/** The review's file name: a soft hyphen, U+180E, tag A (U+E0041), U+2029, U+3164 and U+115F between letters. */
const INVISIBLE = join(FIXTURES, 'invisible.txt');

/** What Unicode says is invisible or a control: every code point the views must not print raw. */
const UNICODE_UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;

/** The characters the review named. */
const NAMED = [0xad, 0x34f, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x180b, 0x180e, 0x180f, 0x3164, 0xffa0, 0xfe00, 0xfe0f, 0xe0000, 0xe0001, 0xe0041, 0xe007f, 0xe0100, 0xe01ef];

function* codePoints(): Generator<number> {
  for (let code = 0; code <= 0x10ffff; code++) if (code < 0xd800 || code > 0xdfff) yield code;
}

describe('escapeControl', () => {
  it('escapes each character the review named, an astral one as one escape', () => {
    for (const code of NAMED) {
      const shown = escapeControl(`a${String.fromCodePoint(code)}b`);
      const escaped = code <= 0xff ? `\\x${code.toString(16)}` : code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\u{${code.toString(16)}}`;
      expect(shown, code.toString(16)).toBe(`a${escaped}b`);
    }
  });

  it('escapes every code point Unicode calls a control, a format character, a separator of lines or paragraphs, or default-ignorable, and keeps every other', () => {
    const missed: string[] = [];
    const extra: string[] = [];
    for (const code of codePoints()) {
      const char = String.fromCodePoint(code);
      const shown = escapeControl(char);
      if (UNICODE_UNSAFE.test(char)) {
        if (shown === char || !/^\\(x[0-9a-f]{2}|u[0-9a-f]{4}|u\{[0-9a-f]{5}\}|[ntr])$/.test(shown)) missed.push(code.toString(16));
      } else if (shown !== char) extra.push(code.toString(16));
    }
    expect(missed).toEqual([]);
    expect(extra).toEqual([]);
  });

  it('leaves text already escaped as it is (views escape some text twice)', () => {
    const once = escapeControl('a\u00ad\u{e0041}\u202e\n\u0007b');
    expect(escapeControl(once)).toBe(once);
  });
});

describe('safeJson', () => {
  it('writes every such character beyond C0 as its \\u escape (an astral one as its two halves), and parses back to the same text', () => {
    const chars: string[] = [];
    for (const code of codePoints()) if (code >= 0x7f && UNICODE_UNSAFE.test(String.fromCodePoint(code))) chars.push(String.fromCodePoint(code));
    const value = { name: chars.join('x'), each: chars };
    const json = safeJson(value, 2);
    for (const char of json) expect(UNICODE_UNSAFE.test(char) && char !== '\n', `U+${char.codePointAt(0)!.toString(16)} raw`).toBe(false);
    expect(json).toContain('"\\udb40\\udc41"');
    expect(JSON.parse(json)).toEqual(value);
  });
});

describe('the review trace of a file named with invisible characters', () => {
  const RAW = /[\u00ad\u115f\u180e\u3164]|\u{e0041}/u;

  it('shows them escaped in text, Markdown, Jira and JSON, redacted or not', async () => {
    const report = buildReport(await analyze([INVISIBLE]));
    expect(report.findings.map((f) => f.path)).toContain('/tmp/shy-a\u00adb\u180ec\u{e0041}d\u2029e\u3164f\u115fg.index');
    for (const redact of [false, true]) {
      const shown = redaction(redact).report(report);
      const outputs = [
        formatText(shown),
        ...(['markdown', 'jira', 'json'] as const).map((format) => formatReport(shown, format, { command: 'orphanmap analyze x' })),
        ...shown.findings.map(ndjsonLine),
      ];
      for (const output of outputs) expect(output, `redact ${redact}`).not.toMatch(RAW);
    }
    expect(formatText(report)).toContain('/tmp/shy-a\\xadb\\u180ec\\u{e0041}d\\u2029e\\u3164f\\u115fg.index');
  });

  describe('in the TUI', () => {
    let unmount: (() => void) | null = null;
    afterEach(() => {
      unmount?.();
      unmount = null;
    });

    it('draws its row as wide as the plain file beside it, each column where the header has it', async () => {
      const { store } = storeFromTrace(INVISIBLE);
      const view = render(createElement(App, { store, width: 120, height: 30 }));
      unmount = view.unmount;
      const end = Date.now() + 5000;
      let frame = '';
      while (Date.now() < end) {
        frame = view.lastFrame() ?? '';
        if (frame.includes('plain-abc')) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const rows = frame.split('\n').filter((line) => /^[› ] (ERR|WRN|BEN) /.test(line));
      expect(rows).toHaveLength(2);
      // The size column (4.0 KiB) starts at the same terminal column in both rows.
      const sizeColumn = rows.map((row) => stringWidth(row.slice(0, row.indexOf('4.0 KiB'))));
      expect(sizeColumn[0]).toBeGreaterThan(0);
      expect(sizeColumn[0]).toBe(sizeColumn[1]);
      expect(stringWidth(rows[0]!)).toBe(stringWidth(rows[1]!));
      expect(rows.join('\n')).not.toMatch(RAW);
    });
  });
});
