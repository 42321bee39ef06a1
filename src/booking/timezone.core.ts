/**
 * Time-zone arithmetic on IANA zones with the platform's Intl data (no extra package). Pure:
 * no clock, no I/O. Local wall-clock times are `{year, month, day, minute}`, minute since
 * local midnight; instants are epoch milliseconds.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when `timeZone` is an IANA zone name the runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  if (timeZone.length === 0 || timeZone.length > 64) return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

export interface LocalDate {
  readonly year: number;
  readonly month: number; // 1–12
  readonly day: number;
}

/** The local calendar fields of an instant in `timeZone`. */
export function toLocalParts(instant: number, timeZone: string): LocalDate & { minute: number } {
  const parts = formatterFor(timeZone).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { year: get('year'), month: get('month'), day: get('day'), minute: get('hour') * 60 + get('minute') };
}

/** UTC offset of `timeZone` at `instant`, in milliseconds (Berlin in summer: +7 200 000). */
export function offsetAt(instant: number, timeZone: string): number {
  const p = formatterFor(timeZone).formatToParts(new Date(instant));
  const get = (type: string) => Number(p.find((x) => x.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  const whole = instant - (instant % 1000 + 1000) % 1000;
  return asUtc - whole;
}

/**
 * The instant at which local time `minute` of `date` occurs in `timeZone`, disambiguated like
 * Temporal's `compatible` mode: a wall time inside a spring-forward gap is shifted forward by
 * the gap (02:30 → 03:30 in Berlin); an ambiguous one (autumn fall-back) takes the earlier instant.
 */
export function localToInstant(date: LocalDate, minute: number, timeZone: string): number {
  const naive = Date.UTC(date.year, date.month - 1, date.day, 0, minute);
  const before = offsetAt(naive - 86_400_000, timeZone);
  const after = offsetAt(naive + 86_400_000, timeZone);
  const candidates = [naive - before, naive - after].filter((c) => offsetAt(c, timeZone) === naive - c);
  if (candidates.length > 0) return Math.min(...candidates);
  return naive - before;
}

/** Weekday (0 = Sunday) of a local calendar date. */
export function weekdayOf(date: LocalDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

/** The next calendar date. */
export function nextDate(date: LocalDate): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + 1));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function compareDates(a: LocalDate, b: LocalDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

/** `"09:30"` → 570; `"24:00"` → 1440. Returns null for anything else. */
export function parseClock(value: string): number | null {
  const m = /^([01]\d|2[0-4]):([0-5]\d)$/.exec(value);
  if (!m) return null;
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  return minutes <= 1440 ? minutes : null;
}

export function formatClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** `YYYY-MM-DD` → a local date, or null when it is not a real calendar date. */
export function parseLocalDate(value: string): LocalDate | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return null;
  return { year, month, day };
}

/** An instant as local wall time with its UTC offset (RFC 3339), e.g. `2026-03-29T10:00:00+02:00`. */
export function formatLocalDateTime(instant: number, timeZone: string): string {
  const p = toLocalParts(instant, timeZone);
  const offset = Math.round(offsetAt(instant, timeZone) / 60_000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const seconds = Math.floor((((instant % 60_000) + 60_000) % 60_000) / 1000);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(Math.floor(p.minute / 60))}:${pad(p.minute % 60)}:${pad(seconds)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
