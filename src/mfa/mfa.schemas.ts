import { Type } from '@fastify/type-provider-typebox';

const Code = Type.String({ minLength: 6, maxLength: 64 });

export const TotpSetupResponse = Type.Object({ secret: Type.String(), uri: Type.String(), qrSvg: Type.String() });
export const CodeBody = Type.Object({ code: Code }, { additionalProperties: false });
export const DisableBody = Type.Union([
  Type.Object({ code: Code }, { additionalProperties: false }),
  Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
]);
export const BackupCodesResponse = Type.Object({ backupCodes: Type.Array(Type.String()) });
export const VerifyBody = Type.Object(
  { challengeToken: Type.String({ minLength: 1, maxLength: 512 }), code: Code },
  { additionalProperties: false },
);

export const SecurityPolicy = Type.Object(
  { requireMfaFor: Type.Array(Type.Union([Type.Literal('owner'), Type.Literal('manager'), Type.Literal('staff')]), { uniqueItems: true }) },
  { additionalProperties: false },
);
