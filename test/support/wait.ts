// Waiting on real processes: poll a condition until it holds, or fail saying
// what was awaited. A deadline, never a fixed sleep.

/** Resolves once `condition()` is true; throws after `timeoutMs` naming `what`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
