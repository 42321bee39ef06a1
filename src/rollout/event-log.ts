import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
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

/** The events already in `path` (a resumed rollout continues its log); a torn last line is skipped. */
function readExisting(path: string): LoggedEvent[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  // Terminate a torn last line so the next append starts a line of its own.
  if (text.length > 0 && !text.endsWith('\n')) appendFileSync(path, '\n');
  const events: LoggedEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      events.push(JSON.parse(line) as LoggedEvent);
    } catch {
      // A crash mid-write can leave one partial line at the end; everything before it is whole.
    }
  }
  return events;
}

/**
 * Append-only JSON lines. Writes are synchronous so a crash never loses a decision that was
 * already acted on; lines are small and at most a few per second. An existing file is read and
 * continued (sequence numbers carry on), so a resumed rollout keeps one log.
 */
export function createEventLog(path: string): EventLog {
  mkdirSync(dirname(path), { recursive: true });
  const events: LoggedEvent[] = readExisting(path);
  return {
    path,
    append(type, at, data) {
      const event: LoggedEvent = { seq: (events.at(-1)?.seq ?? 0) + 1, at, type, ...data };
      appendFileSync(path, `${JSON.stringify(event)}\n`);
      events.push(event);
      return event;
    },
    readAll: () => events,
  };
}
