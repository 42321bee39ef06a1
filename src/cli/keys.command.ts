import { buildServices } from '../app.js';
import { loadConfig } from '../config/config.js';
import { openDatabase } from '../db/index.js';

/**
 * `boka keys rotate`: a new signing key becomes current; the old one keeps verifying until its
 * tokens expire. Running instances pick it up on the next unknown `kid` (or the bus message).
 * `boka keys list` prints the verification keys. Public data only: key ids and algorithms.
 */
export async function runKeys(action: 'rotate' | 'list', values: { json: boolean }): Promise<number> {
  const config = loadConfig();
  const db = await openDatabase(config);
  try {
    const services = await buildServices(config, { db });
    const rotated = action === 'rotate' ? await services.tokens.rotate() : undefined;
    const keys = services.tokens.jwks().keys.map((key) => ({ kid: key.kid, alg: key.alg }));
    if (values.json) {
      process.stdout.write(`${JSON.stringify(rotated === undefined ? { keys } : { rotated, keys })}\n`);
      return 0;
    }
    if (rotated !== undefined) console.log(`new signing key: ${rotated}`);
    for (const key of keys) console.log(`${key.kid} ${key.alg}`);
    return 0;
  } finally {
    await db.close();
  }
}
