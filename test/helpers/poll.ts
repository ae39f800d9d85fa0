// Waiting for something another process does: poll with a generous deadline, never sleep-and-hope.
// (test/server/harness.ts has a tighter in-process twin; this one spaces out probes that cost a
// request or a TLS handshake.)

/** Polls `probe` every `everyMs` until it returns something other than undefined/false. */
export async function pollUntil<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
