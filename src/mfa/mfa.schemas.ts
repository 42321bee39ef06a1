import { Type } from '@fastify/type-provider-typebox';

const Code = Type.String({ minLength: 6, maxLength: 64 });

export const TotpSetupResponse = Type.Object({ secret: Type.String(), uri: Type.String(), qrSvg: Type.String() });
export const CodeBody = Type.Object({ code: Code }, { additionalProperties: false, examples: [{ code: '123456' }] });
export const DisableBody = Type.Union([
  Type.Object({ code: Code }, { additionalProperties: false }),
  Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
], { examples: [{ code: '123456' }, { password: 'plum-tuesday-kettle-42' }] });
export const BackupCodesResponse = Type.Object({ backupCodes: Type.Array(Type.String()) });
export const VerifyBody = Type.Object(
  { challengeToken: Type.String({ minLength: 1, maxLength: 512 }), code: Code },
  { additionalProperties: false, examples: [{ challengeToken: 'mfa_3f6c2a4e-8d1b-4c7a-9e2f-5b8a1d0c7e41.q8J3kV0mZf5xR2nL7pW9sT4yB6cH1dE0gA3uI8oK2rM', code: '123456' }] },
);

export const SecurityPolicy = Type.Object(
  { requireMfaFor: Type.Array(Type.Union([Type.Literal('owner'), Type.Literal('manager'), Type.Literal('staff')]), { uniqueItems: true }) },
  { additionalProperties: false, examples: [{ requireMfaFor: ['owner', 'manager'] }] },
);
