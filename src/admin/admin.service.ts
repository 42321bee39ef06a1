import { randomUUID } from 'node:crypto';
import { hashPassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../auth/password.js';
import { findUserByEmail, insertUser, setSuperadmin } from '../auth/users.repo.js';
import type { Database } from '../db/index.js';
import type { EventHub } from '../shared/events.js';

export type GrantResult = { ok: true; userId: string; created: boolean } | { ok: false; reason: string };

/**
 * Platform administration bootstrap. There is no default account (ASVS 2.5.4): the first
 * superadmin is made by an operator on the host, with a password typed by that operator or
 * an existing account promoted.
 */
export async function grantSuperadmin(
  deps: { db: Database; events: EventHub },
  input: { email: string; name?: string; password?: string },
): Promise<GrantResult> {
  const existing = await findUserByEmail(deps.db, input.email);
  let userId: string;
  if (existing) {
    userId = existing.id;
  } else {
    if (!input.password) return { ok: false, reason: 'no account with this email; pass --password-stdin to create one' };
    if (input.password.length < PASSWORD_MIN_LENGTH || input.password.length > PASSWORD_MAX_LENGTH) {
      return { ok: false, reason: `the password must be ${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters` };
    }
    userId = randomUUID();
    await insertUser(deps.db, { id: userId, email: input.email, name: input.name ?? input.email, passwordHash: await hashPassword(input.password) });
  }
  await setSuperadmin(deps.db, userId, true);
  deps.events.emit('superadmin.granted', { userId, email: input.email, created: !existing });
  return { ok: true, userId, created: !existing };
}
