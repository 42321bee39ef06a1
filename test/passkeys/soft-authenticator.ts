/**
 * A software WebAuthn authenticator (ES256, `none` attestation) that builds real, signed
 * registration and assertion responses, so inject-level tests exercise the real verification.
 * Every field can be bent (origin, challenge, counter, flags) to produce the refusals under test.
 * The browser test uses Chromium's virtual authenticator instead.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

const b64 = (b: Uint8Array | Buffer) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

export interface SoftCredential {
  readonly id: Buffer;
  readonly privateKey: KeyObject;
  readonly cosePublicKey: Uint8Array;
  /** The user handle the RP gave at creation (base64url). */
  readonly userHandle: string;
  /** Signature counter; incremented before each assertion when `counting`. */
  counter: number;
  readonly counting: boolean;
}

export interface Bend {
  origin?: string;
  challenge?: string;
  type?: string;
  rpId?: string;
  userVerified?: boolean;
  counter?: number;
  /** Attestation statement to send instead of none (e.g. one carrying an x5c chain). */
  attestation?: { fmt: string; attStmt: Map<string, unknown> };
  userHandle?: string | null;
}

function flags(up: boolean, uv: boolean, at: boolean): number {
  return (up ? 0x01 : 0) | (uv ? 0x04 : 0) | (at ? 0x40 : 0);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function createSoftAuthenticator(defaults: { rpId: string; origin: string }) {
  function clientData(type: string, challenge: string, bend: Bend): Buffer {
    return Buffer.from(JSON.stringify({ type: bend.type ?? type, challenge: bend.challenge ?? challenge, origin: bend.origin ?? defaults.origin, crossOrigin: false }));
  }

  return {
    /** navigator.credentials.create(): a new key pair and its attestation response. */
    create(options: { challenge: string; user: { id: string } }, bend: Bend = {}, counting = false) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = publicKey.export({ format: 'jwk' });
      const cosePublicKey = isoCBOR.encode(new Map<number, number | Uint8Array>([
        [1, 2], [3, -7], [-1, 1],
        [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
      ]));
      const id = randomBytes(16);
      const credential: SoftCredential = { id, privateKey, cosePublicKey, userHandle: options.user.id, counter: bend.counter ?? 0, counting };
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(id.length);
      const authData = Buffer.concat([
        sha256(bend.rpId ?? defaults.rpId),
        Buffer.from([flags(true, bend.userVerified ?? true, true)]),
        u32(credential.counter),
        Buffer.alloc(16),
        idLength,
        id,
        Buffer.from(cosePublicKey),
      ]);
      const att = bend.attestation ?? { fmt: 'none', attStmt: new Map() };
      const attestationObject = isoCBOR.encode(new Map<string, unknown>([
        ['fmt', att.fmt], ['attStmt', att.attStmt], ['authData', new Uint8Array(authData)],
      ]) as Parameters<typeof isoCBOR.encode>[0]);
      const response = {
        id: b64(id),
        rawId: b64(id),
        type: 'public-key',
        response: { clientDataJSON: b64(clientData('webauthn.create', options.challenge, bend)), attestationObject: b64(attestationObject), transports: ['internal'] },
        clientExtensionResults: {},
      };
      return { credential, response };
    },

    /** navigator.credentials.get(): an assertion by `credential` over the options' challenge. */
    assert(credential: SoftCredential, options: { challenge: string }, bend: Bend = {}) {
      if (credential.counting && bend.counter === undefined) credential.counter += 1;
      const counter = bend.counter ?? credential.counter;
      const authData = Buffer.concat([sha256(bend.rpId ?? defaults.rpId), Buffer.from([flags(true, bend.userVerified ?? true, false)]), u32(counter)]);
      const cdj = clientData('webauthn.get', options.challenge, bend);
      const signature = sign('sha256', Buffer.concat([authData, sha256(cdj)]), credential.privateKey);
      const userHandle = bend.userHandle === undefined ? credential.userHandle : bend.userHandle;
      return {
        id: b64(credential.id),
        rawId: b64(credential.id),
        type: 'public-key',
        response: {
          clientDataJSON: b64(cdj),
          authenticatorData: b64(authData),
          signature: b64(signature),
          ...(userHandle === null ? {} : { userHandle }),
        },
        clientExtensionResults: {},
      };
    },
  };
}
