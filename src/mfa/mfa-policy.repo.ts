import type { TenantRole } from '../access/index.js';
import type { Queryable } from '../db/index.js';

export async function readPolicy(tx: Queryable, tenantId: string): Promise<TenantRole[]> {
  const res = await tx.query<{ roles: TenantRole[] }>(`SELECT require_mfa_for AS roles FROM tenant_security_policies WHERE tenant_id = $1`, [tenantId]);
  return res.rows[0]?.roles ?? [];
}

export async function writePolicy(tx: Queryable, tenantId: string, roles: readonly string[]): Promise<void> {
  await tx.query(
    `INSERT INTO tenant_security_policies (tenant_id, require_mfa_for) VALUES ($1, $2)
     ON CONFLICT (tenant_id) DO UPDATE SET require_mfa_for = EXCLUDED.require_mfa_for, updated_at = now()`,
    [tenantId, roles],
  );
}
