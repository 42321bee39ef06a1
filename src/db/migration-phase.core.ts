/**
 * Expand/contract phases of migrations (docs/adr/0010-expand-contract-migrations.md). Blue and
 * green share one database during a release: an `expand` migration only adds, so the previous
 * release keeps working on it; a `contract` migration removes or changes what an older release
 * used, so it may run only once no instance of such a release is alive. Pure: no I/O, no clock.
 */
export type MigrationPhase = 'expand' | 'contract';

export const MIGRATION_PHASES: readonly MigrationPhase[] = ['expand', 'contract'];

/** A migration file as shipped with this build. */
export interface MigrationFile {
  readonly version: number;
  /** File name, e.g. `006.do.instance-registry.sql`. */
  readonly name: string;
  /** Undefined when the file declares no phase: such a file is refused, never guessed. */
  readonly phase: MigrationPhase | undefined;
  readonly sql: string;
}

/**
 * Files written before phases existed. They cannot gain a header: postgrator validates the
 * checksum of every applied file, so editing one would stop every existing database from
 * migrating. All five only create objects (005 adds a column with a default): expand.
 */
export const GRANDFATHERED_PHASES: Readonly<Record<number, MigrationPhase>> = Object.freeze({
  1: 'expand',
  2: 'expand',
  3: 'expand',
  4: 'expand',
  5: 'expand',
});

const HEADER = /^--\s*phase:\s*(\S+)\s*$/i;
const FILE_NAME = /^(\d+)\.do\.[^/]+\.sql$/;

/** The version in a postgrator `NNN.do.title.sql` name, or undefined for any other file. */
export function parseMigrationVersion(name: string): number | undefined {
  const m = FILE_NAME.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * The phase a migration declares on its first line (`-- phase: expand`), or its grandfathered
 * phase. An unknown word after `phase:` is an error: a typo must not read as "undeclared but fine".
 */
export function readDeclaredPhase(version: number, sql: string): MigrationPhase | undefined {
  const firstLine = sql.split(/\r?\n/, 1)[0] ?? '';
  const m = HEADER.exec(firstLine.trim());
  if (m) {
    const word = (m[1] ?? '').toLowerCase();
    if (word !== 'expand' && word !== 'contract') throw new Error(`migration ${version}: unknown phase "${m[1]}" (expand or contract)`);
    return word;
  }
  return GRANDFATHERED_PHASES[version];
}

/** The migrations after `current`, oldest first. */
export function pendingMigrations(migrations: readonly MigrationFile[], current: number): MigrationFile[] {
  return migrations.filter((m) => m.version > current).sort((a, b) => a.version - b.version);
}

/**
 * The schema level this build needs to serve: its newest `expand` migration. Contract
 * migrations after it may still be pending: by definition the code that ships them works
 * without them (they only remove what older releases used).
 */
export function requiredSchemaLevel(migrations: readonly MigrationFile[]): number {
  return migrations.reduce((max, m) => (m.phase === 'expand' && m.version > max ? m.version : max), 0);
}

/** What an instance may apply by itself at start: the pending expand migrations before the first pending contract one. */
export interface AutoMigration {
  /** Apply up to and including this version; undefined when nothing may be applied. */
  readonly target: number | undefined;
  /** The first pending contract migration, when there is one. */
  readonly heldContract: MigrationFile | undefined;
  /** Expand migrations behind that contract: the build needs them, so it cannot start. */
  readonly stranded: readonly MigrationFile[];
}

export function planAutoMigration(migrations: readonly MigrationFile[], current: number): AutoMigration {
  const pending = pendingMigrations(migrations, current);
  const undeclared = pending.find((m) => m.phase === undefined);
  if (undeclared) throw new Error(`migration ${undeclared.name} declares no phase (first line \`-- phase: expand\` or \`-- phase: contract\`)`);
  const stop = pending.findIndex((m) => m.phase === 'contract');
  const expandable = stop === -1 ? pending : pending.slice(0, stop);
  return {
    target: expandable.at(-1)?.version,
    heldContract: stop === -1 ? undefined : pending[stop],
    stranded: stop === -1 ? [] : pending.slice(stop + 1).filter((m) => m.phase === 'expand'),
  };
}
