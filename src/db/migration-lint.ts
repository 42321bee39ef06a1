import { parse, scan } from 'libpg-query';
import type { MigrationPhase } from './migration-phase.core.js';

/**
 * The expand-migration check (ADR 0010). It reads migrations with libpg-query, PostgreSQL's own
 * parser compiled to WebAssembly: comments, string literals, dollar quotes and identifiers are
 * told apart exactly as the server does, so neither a `-- DROP` comment nor a `'DROP'` literal
 * trips it, and no spelling of a destructive statement slips through a regular expression.
 * Dynamic SQL (`EXECUTE format('…')` inside a DO block) is a string and cannot be checked: DO
 * bodies are only scanned for destructive keywords outside their literals.
 */
export type LintRule =
  | 'drop'
  | 'rename'
  | 'alter-type'
  | 'set-not-null'
  | 'add-not-null-without-default'
  | 'drop-default'
  | 'truncate'
  | 'delete-all'
  | 'narrowing-constraint'
  | 'unique-index'
  | 'enable-rls'
  | 'restrictive-policy'
  | 'revoke'
  | 'do-block';

export interface LintFinding {
  readonly rule: LintRule;
  /** 1-based line of the statement in the file. */
  readonly line: number;
  readonly message: string;
}

type Json = Record<string, unknown>;

function obj(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}
function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.map((v) => obj(v) ?? {}) : [];
}
function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
/** `{ String: { sval } }` nodes of a qualified name, joined; the last part is the object's own name. */
function lastName(names: unknown): string | undefined {
  const parts = list(names).map((n) => str(obj(n.String)?.sval)).filter((s): s is string => s !== undefined);
  return parts.at(-1);
}
function relname(rangeVar: unknown): string | undefined {
  return str(obj(rangeVar)?.relname);
}

const DESTRUCTIVE_KEYWORDS = new Set(['DROP', 'TRUNCATE', 'RENAME', 'REVOKE']);

/** What a migration creates itself: changing those within the same file breaks no older release. */
interface Created {
  readonly tables: Set<string>;
  readonly functions: Set<string>;
  /** `table.column` added with a DEFAULT in this migration (a later SET NOT NULL is then safe). */
  readonly defaultedColumns: Set<string>;
}

function collectCreated(stmts: Json[]): Created {
  const created: Created = { tables: new Set(), functions: new Set(), defaultedColumns: new Set() };
  for (const stmt of stmts) {
    const create = obj(stmt.CreateStmt);
    const table = relname(create?.relation);
    if (table) created.tables.add(table);
    const fn = lastName(obj(stmt.CreateFunctionStmt)?.funcname);
    if (fn) created.functions.add(fn);
    const alter = obj(stmt.AlterTableStmt);
    const altered = relname(alter?.relation);
    for (const cmd of list(alter?.cmds).map((c) => obj(c.AlterTableCmd) ?? {})) {
      const column = obj(obj(cmd.def)?.ColumnDef);
      if (cmd.subtype !== 'AT_AddColumn' || !column || !altered) continue;
      if (constraintTypes(column).includes('CONSTR_DEFAULT')) created.defaultedColumns.add(`${altered}.${str(column.colname)}`);
    }
  }
  return created;
}

function constraintTypes(columnDef: Json): string[] {
  return list(columnDef.constraints).map((c) => str(obj(c.Constraint)?.contype) ?? '');
}

function lineAt(sql: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < sql.length; i++) if (sql.charCodeAt(i) === 10) line += 1;
  return line;
}

/**
 * Destructive or narrowing statements in a migration declared `phase`. A `contract` migration
 * may do all of these (that is its purpose): it gets no findings. A parse error is thrown.
 */
export async function lintMigration(sql: string, phase: MigrationPhase): Promise<LintFinding[]> {
  if (phase === 'contract') return [];
  const parsed = await parse(sql);
  const raw = (parsed.stmts ?? []) as unknown as Json[];
  const stmts = raw.map((s) => obj(s.stmt) ?? {});
  const created = collectCreated(stmts);
  const findings: LintFinding[] = [];
  for (const [index, stmt] of stmts.entries()) {
    // stmt_location is the end of the previous statement: skip the blank lines and comments after it.
    const start = Number(raw[index]?.stmt_location ?? 0);
    const line = lineAt(sql, start + leadingCommentLength(sql.slice(start)));
    for (const finding of await lintStatement(stmt, created)) findings.push({ ...finding, line });
  }
  return findings;
}

/** Length of the comments (and whitespace) a statement's text starts with. */
function leadingCommentLength(text: string): number {
  const m = /^(?:\s*--[^\n]*\n|\s*\/\*[\s\S]*?\*\/)*\s*/.exec(text);
  return m ? m[0].length : 0;
}

async function lintStatement(stmt: Json, created: Created): Promise<Array<Omit<LintFinding, 'line'>>> {
  const out: Array<Omit<LintFinding, 'line'>> = [];
  const [kind] = Object.keys(stmt);
  if (!kind) return out;
  const node = obj(stmt[kind]) ?? {};
  if (kind.startsWith('Drop')) out.push({ rule: 'drop', message: `${kind.replace(/Stmt$/, '')}: DROP removes what the previous release may use` });
  if (kind === 'RenameStmt' || (kind === 'AlterEnumStmt' && node.oldVal !== undefined)) {
    out.push({ rule: 'rename', message: 'RENAME: the previous release still uses the old name (add + dual-write + drop instead)' });
  }
  if (kind === 'TruncateStmt') out.push({ rule: 'truncate', message: 'TRUNCATE deletes data the previous release serves' });
  if (kind === 'DeleteStmt' && node.whereClause === undefined) out.push({ rule: 'delete-all', message: 'DELETE without WHERE empties a table' });
  if (kind === 'AlterTableStmt') out.push(...lintAlterTable(node, created));
  if (kind === 'IndexStmt' && node.unique === true && !created.tables.has(relname(node.relation) ?? '')) {
    out.push({ rule: 'unique-index', message: `UNIQUE index on existing table ${relname(node.relation)}: the previous release may write duplicates` });
  }
  if (kind === 'CreatePolicyStmt' && node.permissive !== true && !created.tables.has(relname(node.table) ?? '')) {
    out.push({ rule: 'restrictive-policy', message: `restrictive policy on existing table ${relname(node.table)} narrows what the previous release may read or write` });
  }
  if (kind === 'GrantStmt' && node.is_grant !== true) {
    const objects = list(node.objects).map((o) => lastName(obj(o.ObjectWithArgs)?.objname) ?? relname(o.RangeVar) ?? '');
    const own = objects.every((o) => created.tables.has(o) || created.functions.has(o));
    if (!own) out.push({ rule: 'revoke', message: 'REVOKE on an existing object takes away what the previous release may use' });
  }
  if (kind === 'DoStmt') {
    const body = list(node.args).find((a) => obj(a.DefElem)?.defname === 'as');
    const source = str(obj(obj(obj(body?.DefElem)?.arg)?.String)?.sval) ?? '';
    const tokens = (await scan(source)).tokens;
    const hit = tokens.find((t) => DESTRUCTIVE_KEYWORDS.has(t.text.toUpperCase()) && t.keywordKind !== 0);
    if (hit) out.push({ rule: 'do-block', message: `${hit.text.toUpperCase()} inside a DO block` });
  }
  return out;
}

function lintAlterTable(node: Json, created: Created): Array<Omit<LintFinding, 'line'>> {
  const out: Array<Omit<LintFinding, 'line'>> = [];
  const table = relname(node.relation) ?? '';
  const isNew = created.tables.has(table);
  for (const cmd of list(node.cmds).map((c) => obj(c.AlterTableCmd) ?? {})) {
    const column = str(cmd.name);
    switch (cmd.subtype) {
      case 'AT_DropColumn':
        out.push({ rule: 'drop', message: `DROP COLUMN ${table}.${column}: the previous release may read or write it` });
        break;
      case 'AT_DropConstraint':
        out.push({ rule: 'drop', message: `DROP CONSTRAINT ${column} on ${table}` });
        break;
      case 'AT_AlterColumnType':
        out.push({ rule: 'alter-type', message: `ALTER COLUMN ${table}.${column} TYPE: the previous release reads and writes the old type` });
        break;
      case 'AT_SetNotNull':
        if (!isNew && !created.defaultedColumns.has(`${table}.${column}`)) {
          out.push({ rule: 'set-not-null', message: `SET NOT NULL on ${table}.${column}: the previous release may still write NULL` });
        }
        break;
      case 'AT_ColumnDefault':
        if (cmd.def === undefined && !isNew) out.push({ rule: 'drop-default', message: `DROP DEFAULT on ${table}.${column}: the previous release's inserts rely on it` });
        break;
      case 'AT_AddColumn': {
        const def = obj(obj(cmd.def)?.ColumnDef) ?? {};
        const types = constraintTypes(def);
        const filled = types.some((t) => t === 'CONSTR_DEFAULT' || t === 'CONSTR_IDENTITY' || t === 'CONSTR_GENERATED');
        if (!isNew && types.includes('CONSTR_NOTNULL') && !filled) {
          out.push({ rule: 'add-not-null-without-default', message: `ADD COLUMN ${table}.${str(def.colname)} NOT NULL without DEFAULT: the previous release's inserts fail` });
        }
        break;
      }
      case 'AT_AddConstraint':
        if (!isNew) {
          const type = str(obj(obj(cmd.def)?.Constraint)?.contype) ?? 'constraint';
          out.push({ rule: 'narrowing-constraint', message: `ADD ${type.replace('CONSTR_', '')} on existing table ${table}: the previous release may write rows it refuses` });
        }
        break;
      case 'AT_EnableRowSecurity':
      case 'AT_ForceRowSecurity':
        if (!isNew) out.push({ rule: 'enable-rls', message: `row-level security on existing table ${table}: the previous release does not set the scope it needs` });
        break;
      default:
        break;
    }
  }
  return out;
}
