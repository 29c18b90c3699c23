// Waiting on what a TUI draws: ink renders a moment after a key, so a test
// polls the last frame until it shows what the key should have done. The key
// itself is never sent again.

/** The frame once `check` holds; throws after `timeoutMs` with the frame it saw. */
export async function frameWhen(frame: () => string, check: (text: string) => boolean, what: string, timeoutMs = 5000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = frame();
    if (check(text)) return text;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; frame:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
