/** SQLSTATE helpers (PostgreSQL Appendix A). Both drivers expose the code as `err.code`. */
function sqlState(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

export function isUniqueViolation(err: unknown): boolean {
  return sqlState(err) === '23505';
}

export function isExclusionViolation(err: unknown): boolean {
  return sqlState(err) === '23P01';
}

export function isForeignKeyViolation(err: unknown): boolean {
  return sqlState(err) === '23503';
}

/** Class 08 (connection exception), 57P0x (shutdown), 53 (insufficient resources), or a socket error. */
export function isConnectionError(err: unknown): boolean {
  const code = sqlState(err);
  if (code === undefined) return false;
  return (
    code.startsWith('08') ||
    code.startsWith('57P') ||
    code.startsWith('53') ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)
  );
}

/** 57014: statement timeout / cancelled. */
export function isQueryTimeout(err: unknown): boolean {
  return sqlState(err) === '57014';
}

/** Heuristic for driver-level errors without a SQLSTATE (terminated or failed connections). */
export function isDriverConnectionMessage(err: unknown): boolean {
  return err instanceof Error && /Connection terminated|Client has encountered a connection error|Query read timeout/i.test(err.message);
}

/**
 * The pool's wait for a free connection ran out: every pooled connection was busy. That is
 * saturation, not a lost server. pg-pool words a new connection that failed to open
 * differently ("Connection terminated due to connection timeout"), which stays a connection error.
 */
export function isPoolWaitTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'timeout exceeded when trying to connect';
}

/**
 * What a client-caused SQLSTATE means, for the error handler's safety net: class 22 (data
 * exception: a NUL byte, an invalid uuid or timestamp the boundary let through) and class 23
 * (integrity constraint violation, e.g. two concurrent creates of the same unique value). Any
 * other error, and anything without a SQLSTATE, is null.
 */
export type ClientDataError = 'data_exception' | 'unique_violation' | 'foreign_key_violation' | 'check_violation' | 'not_null_violation' | 'integrity_violation';

export function classifyClientDataError(err: unknown): ClientDataError | null {
  const code = sqlState(err);
  if (code === undefined || !/^[0-9A-Z]{5}$/.test(code)) return null;
  if (code.startsWith('22')) return 'data_exception';
  switch (code) {
    case '23505':
      return 'unique_violation';
    case '23503':
      return 'foreign_key_violation';
    case '23514':
      return 'check_violation';
    case '23502':
      return 'not_null_violation';
  }
  // 23000, 23001 (restrict) and 23P01 (exclusion: an overlapping reservation) are clashes with state.
  return code.startsWith('23') ? 'integrity_violation' : null;
}
