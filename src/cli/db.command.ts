import { loadConfig } from '../config/config.js';
import { openDatabase, readMigrationStatus } from '../db/index.js';

/** `boka db migrate` applies pending migrations; `boka db status` prints current/latest. */
export async function run(argv: string[]): Promise<number> {
  const [sub] = argv;
  const config = loadConfig();
  if (sub === 'migrate') {
    const db = await openDatabase(config, { migrate: true });
    const status = await readMigrationStatus(db);
    await db.close();
    console.log(`database at migration ${status.current} (latest ${status.latest})`);
    return 0;
  }
  if (sub === 'status') {
    const db = await openDatabase(config, { migrate: false });
    const status = await readMigrationStatus(db).catch(() => ({ current: 0, latest: -1 }));
    await db.close();
    console.log(JSON.stringify(status));
    return status.current === status.latest ? 0 : 1;
  }
  console.error('usage: boka db migrate | boka db status');
  return 2;
}
