import type { Queryable } from '../db/index.js';
import { isChosenPassword, type SignInMethods } from './sign-in-methods.core.js';

/**
 * Locks the user row and reads every sign-in method of the account in one round trip (passkeys
 * of migration 011, OIDC identities and placeholder passwords of migration 010). Run inside the
 * transaction that removes a method, so two removals at once cannot both leave "one more".
 * Null when the account is gone, deleted or disabled.
 */
export async function lockSignInMethods(tx: Queryable, userId: string): Promise<SignInMethods | null> {
  const res = await tx.query<{ passwordHash: string; placeholder: string | null; passkeys: number; identities: number }>(
    `SELECT u.password_hash AS "passwordHash",
            (SELECT p.password_hash FROM oidc_placeholder_passwords p WHERE p.user_id = u.id) AS placeholder,
            (SELECT count(*)::int FROM passkeys k WHERE k.user_id = u.id) AS passkeys,
            (SELECT count(*)::int FROM oidc_identities i WHERE i.user_id = u.id) AS identities
       FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL AND u.disabled_at IS NULL FOR UPDATE OF u`,
    [userId],
  );
  const row = res.rows[0];
  if (!row) return null;
  return { password: isChosenPassword(row.passwordHash, row.placeholder), passkeys: Number(row.passkeys), identities: Number(row.identities) };
}
