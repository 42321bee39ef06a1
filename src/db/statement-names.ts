import { createHash } from 'node:crypto';

/** Distinct statement texts that get a prepared-statement name; later ones run unnamed. */
const MAX_NAMED_STATEMENTS = 1_000;

/**
 * Maps SQL text to a stable prepared-statement name (node-postgres prepares a named statement
 * once per connection and reuses it). The application's statements are a fixed set, but a
 * bug that built SQL per request must not grow every server session without bound, so only
 * the first MAX_NAMED_STATEMENTS distinct texts are named.
 */
export function createStatementNames(max = MAX_NAMED_STATEMENTS): (sql: string) => string | undefined {
  const names = new Map<string, string>();
  return (sql) => {
    const known = names.get(sql);
    if (known !== undefined || names.size >= max) return known;
    const name = `boka_${createHash('sha256').update(sql).digest('base64url').slice(0, 24)}`;
    names.set(sql, name);
    return name;
  };
}
