// Terminal input → keys. One read from a terminal can hold several keys: keys
// typed faster than they are read (over ssh, on a loaded machine), a paste, a
// burst from `tmux send-keys "timex" BSpace BSpace`. Each chunk is split here
// into a list of keys before anything is dispatched, and an escape sequence
// cut between two reads is carried over as `pending` (Ink's own input-parser
// does the same for sequences, but hands a run of text such as "timex\x7f\x7f"
// over as one string). Pure: no ink, no stdin.

/** Keys with a name of their own. */
export type KeyName =
  | 'up'
  | 'down'
  | 'left'
  | 'right'
  | 'pageup'
  | 'pagedown'
  | 'home'
  | 'end'
  | 'return'
  | 'escape'
  | 'backspace'
  | 'delete'
  | 'tab'
  | 'insert'
  | 'f1'
  | 'f2'
  | 'f3'
  | 'f4'
  | 'f5'
  | 'f6'
  | 'f7'
  | 'f8'
  | 'f9'
  | 'f10'
  | 'f11'
  | 'f12';

export type Key =
  /** A printable character (one code point; a paste is one key per character). */
  | { type: 'char'; char: string }
  /** Ctrl and a letter: Ctrl-U is { type: 'ctrl', char: 'u' }. */
  | { type: 'ctrl'; char: string }
  | { type: 'named'; name: KeyName }
  /** The mouse wheel (SGR mouse reports): -1 up, 1 down. */
  | { type: 'wheel'; by: -1 | 1 };

export interface ParsedInput {
  keys: Key[];
  /** The start of an escape sequence the next read may complete ("\x1b", "\x1b[1"). */
  pending: string;
}

const ESC = '\u001b';

// CSI "~" codes: ESC [ 5 ~ is PgUp.
const TILDE: Readonly<Record<string, KeyName>> = {
  '1': 'home',
  '2': 'insert',
  '3': 'delete',
  '4': 'end',
  '5': 'pageup',
  '6': 'pagedown',
  '7': 'home',
  '8': 'end',
  '11': 'f1',
  '12': 'f2',
  '13': 'f3',
  '14': 'f4',
  '15': 'f5',
  '17': 'f6',
  '18': 'f7',
  '19': 'f8',
  '20': 'f9',
  '21': 'f10',
  '23': 'f11',
  '24': 'f12',
};

// CSI and SS3 letter finals: ESC [ A and ESC O A are both ↑ (normal and application cursor mode).
const LETTER: Readonly<Record<string, KeyName>> = {
  A: 'up',
  B: 'down',
  C: 'right',
  D: 'left',
  H: 'home',
  F: 'end',
  P: 'f1',
  Q: 'f2',
  R: 'f3',
  S: 'f4',
};

/**
 * Split what one read returned (after `pending` from the previous read) into
 * keys. `final` says no more input is coming soon (a timer fired): a lone
 * ESC is then the Esc key, not the start of a sequence.
 */
export function parseKeys(input: string, final = false): ParsedInput {
  const keys: Key[] = [];
  let k = 0;
  while (k < input.length) {
    const c = input[k]!;
    if (c === ESC) {
      const parsed = parseEscape(input, k, final);
      if (parsed === 'pending') return { keys, pending: input.slice(k) };
      if (parsed.key !== null) keys.push(parsed.key);
      k = parsed.next;
      continue;
    }
    const code = c.charCodeAt(0);
    if (c === '\r' || c === '\n') {
      keys.push({ type: 'named', name: 'return' });
      // CR LF (a paste from some terminals) is one Enter.
      k += c === '\r' && input[k + 1] === '\n' ? 2 : 1;
      continue;
    }
    if (code === 0x7f || code === 0x08) keys.push({ type: 'named', name: 'backspace' });
    else if (code === 0x09) keys.push({ type: 'named', name: 'tab' });
    else if (code >= 0x01 && code <= 0x1a) keys.push({ type: 'ctrl', char: String.fromCharCode(code + 0x60) });
    else if (code < 0x20 || (code >= 0x80 && code < 0xa0)) {
      // NUL, Ctrl-\ ] ^ _ and C1 controls: no binding, and never text.
    } else {
      const point = input.codePointAt(k)!;
      const char = String.fromCodePoint(point);
      keys.push({ type: 'char', char });
      k += char.length;
      continue;
    }
    k++;
  }
  return { keys, pending: '' };
}

type EscapeResult = { key: Key | null; next: number } | 'pending';

function parseEscape(input: string, at: number, final: boolean): EscapeResult {
  const next = input[at + 1];
  if (next === undefined) return final ? { key: { type: 'named', name: 'escape' }, next: at + 1 } : 'pending';
  if (next === '[') return parseCsi(input, at, final);
  if (next === 'O') {
    const letter = input[at + 2];
    if (letter === undefined) return final ? { key: { type: 'named', name: 'escape' }, next: at + 1 } : 'pending';
    const name = LETTER[letter];
    return { key: name === undefined ? null : { type: 'named', name }, next: at + 3 };
  }
  // ESC ESC [ A (Alt-↑ in some terminals): the sequence, not two Escs.
  if (next === ESC && input[at + 2] === '[') {
    const inner = parseCsi(input, at + 1, final);
    return inner;
  }
  // ESC and any other character is Esc followed by that key: no binding uses
  // Alt, and "Esc then j" typed quickly over ssh arrives exactly like this.
  return { key: { type: 'named', name: 'escape' }, next: at + 1 };
}

/**
 *   ESC [ 5 ~        PgUp
 *   ESC [ 1 ; 5 A    Ctrl-↑ (modifiers are ignored: the arrow is what counts)
 *   ESC [ < 65 ; 10 ; 4 M   SGR mouse: wheel down at column 10, row 4
 */
function parseCsi(input: string, at: number, final: boolean): EscapeResult {
  let k = at + 2;
  // Parameter bytes 0x30-0x3f, intermediate bytes 0x20-0x2f, then one final byte 0x40-0x7e.
  while (k < input.length) {
    const code = input.charCodeAt(k);
    if (code >= 0x20 && code <= 0x3f) {
      k++;
      continue;
    }
    break;
  }
  if (k >= input.length) {
    // Cut between two reads, or an Esc followed by '[' typed by hand.
    return final ? { key: { type: 'named', name: 'escape' }, next: at + 1 } : 'pending';
  }
  const finalByte = input[k]!;
  const code = finalByte.charCodeAt(0);
  if (code < 0x40 || code > 0x7e) {
    // Not a sequence after all: drop what was read of it, keep the rest.
    return { key: null, next: k };
  }
  const params = input.slice(at + 2, k);
  const end = k + 1;
  if (params.startsWith('<') && (finalByte === 'M' || finalByte === 'm')) return { key: wheelOf(params.slice(1)), next: end };
  if (finalByte === '~') {
    const name = TILDE[params.split(';')[0] ?? ''];
    return { key: name === undefined ? null : { type: 'named', name }, next: end };
  }
  const name = LETTER[finalByte];
  // Only plain or modified cursor keys ("", "1;5"): "?1;2c" and the like are terminal replies.
  if (name !== undefined && /^(?:1?(?:;\d+)?)$/.test(params)) return { key: { type: 'named', name }, next: end };
  if (finalByte === 'Z') return { key: { type: 'named', name: 'tab' }, next: end };
  return { key: null, next: end };
}

/** SGR mouse: button 64 is wheel up, 65 wheel down (plus 4/8/16 for Shift/Alt/Ctrl). Clicks are ignored. */
function wheelOf(params: string): Key | null {
  const button = Number(params.split(';')[0]);
  if (!Number.isInteger(button) || (button & 64) === 0 || (button & 128) !== 0) return null;
  return (button & 3) === 0 ? { type: 'wheel', by: -1 } : (button & 3) === 1 ? { type: 'wheel', by: 1 } : null;
}

/**
 * A stateful splitter for a stream of reads: carries an incomplete escape
 * sequence to the next read. `flush()` ends a pending lone ESC as the Esc key
 * (call it when no read followed within a few tens of milliseconds).
 */
export class KeyReader {
  private pending = '';

  push(chunk: string): Key[] {
    const parsed = parseKeys(this.pending + chunk);
    this.pending = parsed.pending;
    return parsed.keys;
  }

  get hasPending(): boolean {
    return this.pending !== '';
  }

  flush(): Key[] {
    if (this.pending === '') return [];
    const parsed = parseKeys(this.pending, true);
    this.pending = parsed.pending;
    return parsed.keys;
  }
}
