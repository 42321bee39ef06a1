/**
 * Pure rules of Sign in with OpenID Connect (ADR 0015): what a verified provider answer means for
 * Boka accounts, and when an identity may be unlinked. No I/O, no clock.
 */

/** What the provider asserted, after openid-client checked the ID token (signature, iss, aud, nonce). */
export interface ProviderClaims {
  readonly subject: string;
  /** Canonical (trimmed) address, or null when absent or not an email. */
  readonly email: string | null;
  /** Only the boolean `true` counts (OIDC Core 1.0 §5.1: a string "true" is not a verified address). */
  readonly emailVerified: boolean;
  readonly name: string | null;
}

export type SignInDecision =
  | { readonly kind: 'sign_in'; readonly userId: string }
  | { readonly kind: 'link'; readonly userId: string }
  | { readonly kind: 'create' }
  | { readonly kind: 'refuse'; readonly code: 'oidc_email_unverified' | 'oidc_signup_disabled' | 'duplicate_resource'; readonly reason: string };

/**
 * - a known identity (provider, sub) signs in, whatever the email says now;
 * - otherwise only a provider-verified email is trusted, and it links only to a Boka account
 *   whose own address is verified (no pre-registration takeover: an attacker who signed up with
 *   the victim's address without proving it gains nothing);
 * - a verified email without an account creates one when the provider allows sign-up.
 */
export function decideSignIn(input: {
  identity: { userId: string } | null;
  claims: ProviderClaims;
  userByEmail: { id: string; emailVerified: boolean } | null;
  allowSignup: boolean;
}): SignInDecision {
  if (input.identity) return { kind: 'sign_in', userId: input.identity.userId };
  const { claims } = input;
  if (!claims.email) return { kind: 'refuse', code: 'oidc_email_unverified', reason: 'no_email' };
  if (claims.emailVerified !== true) return { kind: 'refuse', code: 'oidc_email_unverified', reason: 'email_unverified' };
  const user = input.userByEmail;
  if (user) {
    if (!user.emailVerified) return { kind: 'refuse', code: 'duplicate_resource', reason: 'account_email_unverified' };
    return { kind: 'link', userId: user.id };
  }
  if (!input.allowSignup) return { kind: 'refuse', code: 'oidc_signup_disabled', reason: 'signup_disabled' };
  return { kind: 'create' };
}

const EMAIL_RE = /^[^\s@]{1,64}@[^\s@]{1,253}$/;

/** Claims from the ID token (and userinfo), bounded and canonical; anything odd becomes null. */
export function readClaims(subject: string, raw: Record<string, unknown>): ProviderClaims {
  const email = typeof raw.email === 'string' ? raw.email.trim() : '';
  const name = typeof raw.name === 'string' ? raw.name.trim().slice(0, 200) : '';
  return {
    subject,
    email: email.length <= 254 && EMAIL_RE.test(email) ? email : null,
    emailVerified: raw.email_verified === true,
    name: name || null,
  };
}
