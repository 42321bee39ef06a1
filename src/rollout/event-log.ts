import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** One line of `events.jsonl`. */
export interface LoggedEvent {
  readonly seq: number;
  readonly at: number;
  readonly type: string;
  readonly [key: string]: unknown;
}

export interface EventLog {
  readonly path: string;
  append(type: string, at: number, data: Record<string, unknown>): LoggedEvent;
  readAll(): readonly LoggedEvent[];
}

/**
 * Append-only JSON lines. Writes are synchronous so a crash never loses a decision that was
 * already acted on; lines are small and at most a few per second.
 */
export function createEventLog(path: string): EventLog {
  mkdirSync(dirname(path), { recursive: true });
  const events: LoggedEvent[] = [];
  return {
    path,
    append(type, at, data) {
      const event: LoggedEvent = { seq: events.length + 1, at, type, ...data };
      appendFileSync(path, `${JSON.stringify(event)}\n`);
      events.push(event);
      return event;
    },
    readAll: () => events,
  };
}
