// Text from a trace is untrusted: a file name can hold escape sequences that
// would drive the terminal. Everything printed goes through here.

// C0 controls, DEL, C1 controls, and the Unicode bidi/format characters that
// can make a name display as something it is not.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** Control characters shown as escapes (\n, \t, \x1b, \u202e); everything else kept. */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (char) => {
    switch (char) {
      case '\n': return '\\n';
      case '\t': return '\\t';
      case '\r': return '\\r';
      default: {
        const code = char.charCodeAt(0);
        return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
      }
    }
  });
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
