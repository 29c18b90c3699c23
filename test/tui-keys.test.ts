// A read can hold several keys: what a terminal sends, split before dispatch.
import { describe, expect, it } from 'vitest';
import { KeyReader, parseKeys, type Key } from '../src/tui/keys.js';
import { resolveKey } from '../src/tui/keymap.js';

const char = (c: string): Key => ({ type: 'char', char: c });
const named = (name: string): Key => ({ type: 'named', name }) as Key;
const ctrl = (c: string): Key => ({ type: 'ctrl', char: c });

describe('parseKeys', () => {
  it('splits "timex" and two Backspaces sent in one read into seven keys', () => {
    expect(parseKeys('timex\u007f\u007f').keys).toEqual([char('t'), char('i'), char('m'), char('e'), char('x'), named('backspace'), named('backspace')]);
  });

  it('reads Ctrl-U, Ctrl-W and Ctrl-C as control keys, and Ctrl-H as Backspace', () => {
    expect(parseKeys('a\u0015b\u0017\u0003\u0008').keys).toEqual([char('a'), ctrl('u'), char('b'), ctrl('w'), ctrl('c'), named('backspace')]);
  });

  it('splits a burst of six k and arrow sequences in one read', () => {
    expect(parseKeys('kkkkkk').keys).toHaveLength(6);
    expect(parseKeys('\u001b[A\u001b[Bj\u001bOA').keys).toEqual([named('up'), named('down'), char('j'), named('up')]);
  });

  it('reads Enter inside a run ("jj\\r") and CR LF as one Enter', () => {
    expect(parseKeys('jj\r').keys).toEqual([char('j'), char('j'), named('return')]);
    expect(parseKeys('a\r\nb').keys).toEqual([char('a'), named('return'), char('b')]);
  });

  it('reads PgUp, PgDn, Home, End, Delete, F1 and F10 in their common encodings', () => {
    expect(parseKeys('\u001b[5~\u001b[6~\u001b[H\u001b[F\u001b[1~\u001b[4~\u001b[3~\u001bOP\u001b[21~').keys).toEqual([
      named('pageup'),
      named('pagedown'),
      named('home'),
      named('end'),
      named('home'),
      named('end'),
      named('delete'),
      named('f1'),
      named('f10'),
    ]);
  });

  it('reads a modified arrow (Ctrl-↑) as the arrow, and ignores terminal replies', () => {
    expect(parseKeys('\u001b[1;5A').keys).toEqual([named('up')]);
    expect(parseKeys('\u001b[?1;2cj').keys).toEqual([char('j')]);
  });

  it('reads SGR mouse wheel reports and ignores clicks', () => {
    expect(parseKeys('\u001b[<64;10;5M\u001b[<65;10;5M\u001b[<0;10;5M\u001b[<0;10;5m').keys).toEqual([
      { type: 'wheel', by: -1 },
      { type: 'wheel', by: 1 },
    ]);
  });

  it('reads Esc followed by a key in the same read as two keys', () => {
    expect(parseKeys('\u001bj').keys).toEqual([named('escape'), char('j')]);
    expect(parseKeys('\u001b\u001b').keys).toEqual([named('escape')]);
  });

  it('keeps a lone ESC, or a sequence cut at the end of a read, pending', () => {
    expect(parseKeys('j\u001b')).toEqual({ keys: [char('j')], pending: '\u001b' });
    expect(parseKeys('\u001b[5')).toEqual({ keys: [], pending: '\u001b[5' });
    expect(parseKeys('\u001b', true).keys).toEqual([named('escape')]);
  });

  it('keeps a character outside the BMP whole, and drops C1 controls', () => {
    expect(parseKeys('\u{1F600}\u009bx').keys).toEqual([char('\u{1F600}'), char('x')]);
  });
});

describe('KeyReader', () => {
  it('completes a sequence cut between two reads', () => {
    const reader = new KeyReader();
    expect(reader.push('j\u001b[')).toEqual([char('j')]);
    expect(reader.hasPending).toBe(true);
    expect(reader.push('6~k')).toEqual([named('pagedown'), char('k')]);
    expect(reader.hasPending).toBe(false);
  });

  it('turns a lone ESC into the Esc key when flushed', () => {
    const reader = new KeyReader();
    expect(reader.push('\u001b')).toEqual([]);
    expect(reader.flush()).toEqual([named('escape')]);
    expect(reader.flush()).toEqual([]);
  });
});

describe('resolveKey', () => {
  it('sends Backspace, Ctrl-U and Ctrl-W to the filter editor, and letters as text', () => {
    expect(resolveKey('filter', named('backspace'))).toEqual({ type: 'delete-char' });
    expect(resolveKey('filter', ctrl('u'))).toEqual({ type: 'clear-line' });
    expect(resolveKey('filter', ctrl('w'))).toEqual({ type: 'delete-word' });
    expect(resolveKey('filter', char('q'))).toBeNull();
    expect(resolveKey('filter', char('j'))).toBeNull();
  });

  it('quits with q, F10 and Ctrl-C, and F10 and Ctrl-C also from the filter', () => {
    for (const key of [char('q'), named('f10'), ctrl('c')]) expect(resolveKey('table', key)).toEqual({ type: 'quit' });
    for (const key of [named('f10'), ctrl('c')]) expect(resolveKey('filter', key)).toEqual({ type: 'quit' });
  });

  it('turns the wheel into a scroll the way it turned', () => {
    expect(resolveKey('table', { type: 'wheel', by: -1 })).toEqual({ type: 'scroll', by: -3 });
    expect(resolveKey('help', { type: 'wheel', by: 1 })).toEqual({ type: 'scroll', by: 3 });
  });

  it('answers the quit question with s, d, c and Esc only', () => {
    expect(resolveKey('quit', char('s'))).toEqual({ type: 'quit-stop' });
    expect(resolveKey('quit', char('d'))).toEqual({ type: 'quit-detach' });
    expect(resolveKey('quit', char('c'))).toEqual({ type: 'quit-cancel' });
    expect(resolveKey('quit', named('escape'))).toEqual({ type: 'quit-cancel' });
    expect(resolveKey('quit', char('q'))).toBeNull();
    expect(resolveKey('quit', char('j'))).toBeNull();
  });
});
