/**
 * One rule for "is this the account's last way in?" (issue 18, ADR 0021), shared by passkey
 * removal, OIDC unlinking and re-authentication: a usable password, each passkey and each linked
 * OIDC identity is one sign-in method. Pure: the caller reads the facts in its transaction.
 */
export interface SignInMethods {
  /** A password the user chose (not an OIDC account's never-disclosed placeholder, not a deleted tombstone). */
  readonly password: boolean;
  readonly passkeys: number;
  readonly identities: number;
}

/** How many ways into the account there are. */
export function countSignInMethods(m: SignInMethods): number {
  return (m.password ? 1 : 0) + m.passkeys + m.identities;
}

/**
 * Whether one passkey or identity may go: the account must keep at least one way in (ASVS 4.0.3
 * 2.5.x, no self-inflicted lock-out; recovery by password reset needs a password to exist).
 */
export function canRemoveSignInMethod(m: SignInMethods, removing: 'passkey' | 'identity'): boolean {
  if (removing === 'passkey' && m.passkeys < 1) return false;
  if (removing === 'identity' && m.identities < 1) return false;
  return countSignInMethods(m) > 1;
}

/** A stored password hash that can verify a password (argon2 PHC string) and is not the OIDC placeholder. */
export function isChosenPassword(passwordHash: string, placeholderHash: string | null): boolean {
  return passwordHash.startsWith('$argon2') && passwordHash !== placeholderHash;
}
