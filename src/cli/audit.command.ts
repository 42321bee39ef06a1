import { createAuditService } from '../audit/audit.service.js';
import { loadConfig } from '../config/config.js';
import { openDatabase } from '../db/index.js';
import { systemClock } from '../shared/clock.js';
import { createEventHub } from '../shared/events.js';

/**
 * `boka audit verify`: re-walks the platform chain and every tenant chain, recomputing each
 * hash. Exit 0 when every chain holds; 1 with the first broken link of each broken chain.
 */
export async function runVerify(values: { json: boolean }): Promise<number> {
  const config = loadConfig();
  const db = await openDatabase(config);
  try {
    const audit = createAuditService({ db, clock: systemClock, events: createEventHub() });
    const report = await audit.verify();
    for (const b of report.broken) {
      console.error(`BROKEN chain ${b.tenantId ?? 'platform'}: first bad link at seq ${b.seq}${b.id ? ` (id ${b.id})` : ''}: ${b.reason}`);
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ chains: report.chains, records: report.records, broken: report.broken })}\n`);
    else console.log(`audit: ${report.chains} chain(s), ${report.records} record(s) verified, ${report.broken.length} broken`);
    return report.broken.length === 0 ? 0 : 1;
  } finally {
    await db.close();
  }
}
