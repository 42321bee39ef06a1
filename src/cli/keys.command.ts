import { buildServices } from '../app.js';
import { loadConfig } from '../config/config.js';
import { openDatabase } from '../db/index.js';

/**
 * `boka keys rotate`: a new signing key becomes current; the old one keeps verifying until its
 * tokens expire. Running instances pick it up on the next unknown `kid` (or the bus message).
 */
export async function run(argv: string[]): Promise<number> {
  const [sub] = argv;
  if (sub !== 'rotate' && sub !== 'list') {
    console.error('usage: boka keys rotate | boka keys list');
    return 2;
  }
  const config = loadConfig();
  const db = await openDatabase(config);
  try {
    const services = await buildServices(config, { db });
    if (sub === 'rotate') console.log(`new signing key: ${await services.tokens.rotate()}`);
    for (const key of services.tokens.jwks().keys) console.log(`${key.kid} ${key.alg}`);
    return 0;
  } finally {
    await db.close();
  }
}
