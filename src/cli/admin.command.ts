import { grantSuperadmin } from '../admin/admin.service.js';
import { createAuditService } from '../audit/audit.service.js';
import { loadConfig } from '../config/config.js';
import { openDatabase } from '../db/index.js';
import { systemClock } from '../shared/clock.js';
import { createEventHub } from '../shared/events.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/**
 * `boka admin create-superadmin --email a@b.c`: promotes an existing account, or creates one
 * with a password read from stdin (never from argv or the environment, which leak into
 * process listings and shell history). The grant is written to the platform audit chain.
 */
export async function runCreateSuperadmin(values: { email: string; name: string | undefined; 'password-stdin': boolean; json: boolean }): Promise<number> {
  const password = values['password-stdin'] ? await readStdin() : undefined;
  const config = loadConfig();
  const db = await openDatabase(config);
  try {
    const events = createEventHub();
    const audit = createAuditService({
      db,
      clock: systemClock,
      events,
      onWriteError: (err) => console.error(`audit write failed: ${err instanceof Error ? err.message : String(err)}`),
    });
    const result = await grantSuperadmin({ db, events }, { email: values.email, name: values.name, password });
    await audit.flush();
    if (!result.ok) {
      console.error(`create-superadmin: ${result.reason}`);
      return 1;
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ created: result.created, email: values.email, userId: result.userId })}\n`);
    else console.log(`${result.created ? 'created' : 'promoted'} superadmin ${values.email} (${result.userId})`);
    return audit.stats().failed > 0 ? 1 : 0;
  } finally {
    await db.close();
  }
}
