import type { Queryable } from '../db/index.js';

export interface SigningKeyRow {
  kid: string;
  alg: string;
  public_jwk: Record<string, unknown>;
  private_jwk_enc: string;
  created_at: Date;
  retired_at: Date | null;
}

/** Keys that can still verify a token: never retired, or retired less than `graceSeconds` ago. */
export async function listVerifiableKeys(db: Queryable, graceSeconds: number): Promise<SigningKeyRow[]> {
  const res = await db.query<SigningKeyRow>(
    `SELECT kid, alg, public_jwk, private_jwk_enc, created_at, retired_at FROM signing_keys
      WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1)
      ORDER BY created_at DESC`,
    [graceSeconds],
  );
  return res.rows;
}

export async function insertSigningKey(
  db: Queryable,
  key: { kid: string; alg: string; publicJwk: object; privateJwkEnc: string },
): Promise<void> {
  await db.query(`INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk_enc) VALUES ($1, $2, $3, $4)`, [
    key.kid,
    key.alg,
    JSON.stringify(key.publicJwk),
    key.privateJwkEnc,
  ]);
}

/** Retires every active key except `keepKid`; retired keys keep verifying for the token TTL. */
export async function retireKeysExcept(db: Queryable, keepKid: string): Promise<void> {
  await db.query(`UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL AND kid <> $1`, [keepKid]);
}
