/** Test doubles for ports (clock, mail) and polling for work done after a response. */
import { Writable } from 'node:stream';
import type { MailMessage, MailTransport } from '../../src/mail/index.js';

/** A settable clock, so TOTP steps and token expiry can be crossed without waiting. */
export function createManualClock(start = Date.now()) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms), set: (ms: number) => (now = ms) };
}

/** Mail transport that keeps messages (the port's test double; the thing under test is the caller). */
export function createMailbox(): MailTransport & { messages: MailMessage[]; last(to: string): MailMessage | undefined } {
  const messages: MailMessage[] = [];
  return {
    messages,
    async send(m) {
      messages.push(m);
    },
    last: (to) => [...messages].reverse().find((m) => m.to === to),
  };
}

/**
 * Polls `probe` until it returns a value (audit rows are written after the response). Bounded
 * by attempts (10 s by default: only a broken test waits that long), not by a timing assertion.
 */
export async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, attempts = 1_000): Promise<T> {
  for (let i = 0; i < attempts; i += 1) {
    const value = await probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not reached');
}

/** A log destination (the app's `logStream`) that keeps every JSON line it is given, parsed. */
export function captureLogLines(): { lines: Array<Record<string, unknown>>; stream: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}
