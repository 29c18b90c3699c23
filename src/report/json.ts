// JSON for other programs, safe to show. JSON.stringify escapes C0 controls
// but leaves DEL, C1 controls (U+009B is CSI: an escape sequence on many
// terminals), bidi overrides (after U+202E, "gpj.exe" reads "exe.jpg") and line
// separators raw, so `jq`, `less` or a log viewer would draw a hostile file
// name as something it is not. Those characters can only occur inside JSON
// strings, so each one is rewritten as its \u escape: JSON.parse gives back
// exactly the same value.
import { UNSAFE_BEYOND_C0 } from './sanitize.js';

/** JSON.stringify(value, null, indent), with every character unsafe to display as a \u escape. */
export function safeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(UNSAFE_BEYOND_C0, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
