/** Backup file naming and selection: pure, no I/O. */

export type BackupKind = 'pg' | 'pglite';

const EXTENSION: Record<BackupKind, string> = { pg: '.pgdump', pglite: '.pglite.tar.gz' };
const NAME_RE = /^boka-(.+)-(\d{8}T\d{6}Z)(\.pgdump|\.pglite\.tar\.gz)$/;

/** `boka-<version>-<UTC time>.pgdump`: sortable by time, and says which build wrote it. */
export function backupFileName(version: string, at: Date, kind: BackupKind): string {
  const safeVersion = version.replace(/[^A-Za-z0-9.+_-]/g, '_');
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `boka-${safeVersion}-${stamp}${EXTENSION[kind]}`;
}

export interface BackupName {
  file: string;
  version: string;
  createdAt: Date;
  kind: BackupKind;
}

export function parseBackupFileName(file: string): BackupName | null {
  const m = NAME_RE.exec(file);
  if (!m) return null;
  const s = m[2]!;
  const createdAt = new Date(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`);
  if (Number.isNaN(createdAt.getTime())) return null;
  return { file, version: m[1]!, createdAt, kind: m[3] === '.pgdump' ? 'pg' : 'pglite' };
}

/** The newest backup among `files`, or null. */
export function newestBackup(files: readonly string[]): BackupName | null {
  let newest: BackupName | null = null;
  for (const f of files) {
    const parsed = parseBackupFileName(f);
    if (parsed && (!newest || parsed.createdAt > newest.createdAt)) newest = parsed;
  }
  return newest;
}

/** The rollout preflight's rule: a backup younger than `maxAgeHours` exists. */
export function hasRecentBackup(files: readonly string[], now: number, maxAgeHours: number): boolean {
  const newest = newestBackup(files);
  return newest !== null && now - newest.createdAt.getTime() <= maxAgeHours * 3_600_000;
}

/** Tables whose row counts differ (or exist on one side only). Empty means the copy matches. */
export function diffRowCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((t) => a[t] !== b[t]).sort();
}
