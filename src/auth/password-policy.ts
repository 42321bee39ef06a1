import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as commonDictionary } from '@zxcvbn-ts/language-common';
import { dictionary as englishDictionary, translations } from '@zxcvbn-ts/language-en';
import { AppError } from '../errors/index.js';

/**
 * Only the first characters are scored: zxcvbn's matchers are super-linear, and 64 characters of
 * a passphrase already decide its score. With the l33t substitutions capped as well, the worst
 * input measured costs ≈ 90 ms of CPU on the loaded 2-core CI machine (≈ 1.4 s uncapped at 128).
 */
const SCORED_LENGTH = 64;
const L33T_MAX_SUBSTITUTIONS = 10;

let factory: ZxcvbnFactory | null = null;
/** Built once per process (≈ 0.5 s: the ranked dictionaries) and shared; it holds no state. */
function estimator(): ZxcvbnFactory {
  factory ??= new ZxcvbnFactory({
    dictionary: { ...commonDictionary, ...englishDictionary },
    graphs: adjacencyGraphs,
    translations,
    maxLength: SCORED_LENGTH,
    l33tMaxSubstitutions: L33T_MAX_SUBSTITUTIONS,
  });
  return factory;
}

/** What the user told us about themselves: a password made of it is easy to guess. */
export interface PasswordContext {
  readonly email?: string;
  readonly name?: string;
}

/**
 * Rejects common and context-specific passwords (ASVS 4.0.3 2.1.7 offline part, 2.1.8 feedback;
 * NIST SP 800-63B 5.1.1.2). Length rules (2.1.1 / 2.1.2) stay in the request schema.
 */
export interface PasswordPolicy {
  readonly minScore: number;
  /** Throws `validation_error` naming `field`, with the rule, score and feedback in `details`. */
  assertAcceptable(password: string, context: PasswordContext, field: string): void;
}

/** Words a password must not be built from: the address, its local part and domain words, the name. */
function contextWords(context: PasswordContext): string[] {
  const words = new Set<string>();
  const email = context.email?.trim().toLowerCase();
  if (email) {
    words.add(email);
    for (const part of email.split(/[@.+_-]+/)) if (part.length >= 3) words.add(part);
  }
  const name = context.name?.trim().toLowerCase();
  if (name) {
    words.add(name);
    for (const part of name.split(/\s+/)) if (part.length >= 3) words.add(part);
  }
  return [...words];
}

export function createPasswordPolicy(minScore: number): PasswordPolicy {
  // Built at startup, not on the first sign-up: that request would wait for the dictionaries.
  if (minScore > 0) estimator();
  return {
    minScore,
    assertAcceptable(password: string, context: PasswordContext, field: string): void {
      if (minScore <= 0) return;
      const result = estimator().check(password, contextWords(context));
      if (result.score >= minScore) return;
      throw new AppError('validation_error', 'The password is too easy to guess', [{
        field,
        in: 'body',
        message: result.feedback.warning ?? 'is too easy to guess',
        rule: 'password_strength',
        score: result.score,
        minScore,
        suggestions: result.feedback.suggestions,
      }]);
    },
  };
}
