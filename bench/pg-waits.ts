import pg from 'pg';

/** One look at the benchmark database's busy backends: what each was doing, per wait event. */
interface Look { at: number; busy: Map<string, number> }

/**
 * What PostgreSQL's backends for one database were waiting on, sampled from `pg_stat_activity`
 * every `everyMs` while a benchmark runs: a stall that spares the routes that never reach the
 * database is explained by what the others' backends waited on (IO:WALSync = commit fsync,
 * Lock:transactionid / tuple = row locks, LWLock:WALWrite = queued behind another commit's
 * flush, ClientRead = the server holding a transaction open). Each busy backend counts under
 * `wait event · statement kind` (the statement's first words, no values: they are parameters).
 */
export function samplePgWaits(connectionString: string, database: string, everyMs = 100) {
  const looks: Look[] = [];
  const client = new pg.Client({ connectionString });
  let timer: NodeJS.Timeout | undefined;
  let busy = false;
  const look = async () => {
    if (busy) return; // a slow sample is skipped, not queued
    busy = true;
    try {
      const { rows } = await client.query<{ w: string; n: string }>(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU') || ' · ' ||
                coalesce(substring(query from '^\\s*(\\w+(?:\\s+\\w+){0,2})'), '?') AS w, count(*) AS n
           FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')
          GROUP BY 1`,
        [database],
      );
      looks.push({ at: Date.now(), busy: new Map(rows.map((r) => [r.w, Number(r.n)])) });
    } finally {
      busy = false;
    }
  };
  return {
    async start(): Promise<void> {
      await client.connect();
      timer = setInterval(() => void look().catch(() => undefined), everyMs);
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await client.end();
    },
    /** Mean busy backends per wait event between `from` and `to` (ms since the epoch), largest first. */
    summary(from: number, to: number, top = 5): string {
      const inWindow = looks.filter((l) => l.at >= from && l.at < to);
      if (inWindow.length === 0) return 'no samples';
      const totals = new Map<string, number>();
      let all = 0;
      for (const l of inWindow) {
        for (const [w, n] of l.busy) {
          totals.set(w, (totals.get(w) ?? 0) + n);
          all += n;
        }
      }
      const mean = (n: number) => (n / inWindow.length).toFixed(1);
      const parts = [...totals].sort((a, b) => b[1] - a[1]).slice(0, top).map(([w, n]) => `${w} ${mean(n)}`);
      return `${mean(all)} busy backends on average${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
    },
  };
}
export type PgWaits = ReturnType<typeof samplePgWaits>;
