import { normalizeEmail } from '../auth/users.repo.js';
import type { Queryable } from '../db/index.js';

export interface CustomerRecord {
  id: string;
  name: string;
  email: string;
  phone: string | null;
  userId: string | null;
}

const COLUMNS = `id, name, email, phone, user_id AS "userId"`;

export async function insertCustomer(tx: Queryable, tenantId: string, c: CustomerRecord): Promise<CustomerRecord> {
  const res = await tx.query<CustomerRecord>(
    `INSERT INTO customers (id, tenant_id, name, email, email_normalized, phone, user_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
    [c.id, tenantId, c.name, c.email.trim(), normalizeEmail(c.email), c.phone, c.userId],
  );
  return res.rows[0]!;
}

/**
 * Inserts unless a record with the same user or email already exists (concurrent first bookings
 * race here); returns null then, and the caller reads the winner. ON CONFLICT DO NOTHING never
 * raises a unique violation, so no aborted transaction and no 500.
 */
export async function insertCustomerIfAbsent(tx: Queryable, tenantId: string, c: CustomerRecord): Promise<CustomerRecord | null> {
  const res = await tx.query<CustomerRecord>(
    `INSERT INTO customers (id, tenant_id, name, email, email_normalized, phone, user_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
    [c.id, tenantId, c.name, c.email.trim(), normalizeEmail(c.email), c.phone, c.userId],
  );
  return res.rows[0] ?? null;
}

/**
 * Links the tenant's record for this email to `userId` if no account holds it yet (the caller
 * has checked the address is verified); null when there is none or it is already linked.
 */
export async function claimCustomerByEmail(tx: Queryable, tenantId: string, email: string, userId: string): Promise<CustomerRecord | null> {
  const res = await tx.query<CustomerRecord>(
    `UPDATE customers SET user_id = $3 WHERE tenant_id = $1 AND email_normalized = $2 AND user_id IS NULL RETURNING ${COLUMNS}`,
    [tenantId, normalizeEmail(email), userId],
  );
  return res.rows[0] ?? null;
}

export async function findCustomer(tx: Queryable, tenantId: string, id: string): Promise<CustomerRecord | null> {
  const res = await tx.query<CustomerRecord>(`SELECT ${COLUMNS} FROM customers WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function findCustomerByUser(tx: Queryable, tenantId: string, userId: string): Promise<CustomerRecord | null> {
  const res = await tx.query<CustomerRecord>(`SELECT ${COLUMNS} FROM customers WHERE tenant_id = $1 AND user_id = $2`, [tenantId, userId]);
  return res.rows[0] ?? null;
}

export async function findCustomerByEmail(tx: Queryable, tenantId: string, email: string): Promise<CustomerRecord | null> {
  const res = await tx.query<CustomerRecord>(
    `SELECT ${COLUMNS} FROM customers WHERE tenant_id = $1 AND email_normalized = $2`,
    [tenantId, normalizeEmail(email)],
  );
  return res.rows[0] ?? null;
}

export async function listCustomers(tx: Queryable, tenantId: string, page: { after: string | null; limit: number }): Promise<CustomerRecord[]> {
  const res = await tx.query<CustomerRecord>(
    `SELECT ${COLUMNS} FROM customers WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT $3`,
    [tenantId, page.after, page.limit],
  );
  return res.rows;
}

export async function updateCustomer(tx: Queryable, tenantId: string, c: CustomerRecord): Promise<CustomerRecord> {
  const res = await tx.query<CustomerRecord>(
    `UPDATE customers SET name = $3, email = $4, email_normalized = $5, phone = $6, user_id = $7
      WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [tenantId, c.id, c.name, c.email.trim(), normalizeEmail(c.email), c.phone, c.userId],
  );
  return res.rows[0]!;
}
