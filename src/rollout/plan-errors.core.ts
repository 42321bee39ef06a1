import { isMap, isPair, isScalar, type Document, type LineCounter } from 'yaml';

/** One problem in a plan file, located so an operator can jump straight to it. */
export interface PlanError {
  /** 1-based; 0 when the problem is not tied to a place in the file. */
  readonly line: number;
  readonly column: number;
  /** Dotted field path such as `steps[1].duration`. */
  readonly field: string;
  /** What was expected, in words. */
  readonly expected: string;
  /** The offending value rendered as YAML-ish text, when there is one. */
  readonly got: string | undefined;
}

export type PathSegment = string | number;

/** Renders `['steps', 1, 'duration']` as `steps[1].duration`. */
export function formatFieldPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out === '' ? '(root)' : out;
}

/** Formats errors one per line as `file:line:col field: expected …, got …`. */
export function formatPlanErrors(errors: readonly PlanError[], source: string): string {
  return errors
    .map((e) => {
      const where = e.line > 0 ? `${source}:${e.line}:${e.column}` : source;
      const got = e.got === undefined ? '' : `, got ${e.got}`;
      return `${where} ${e.field}: expected ${e.expected}${got}`;
    })
    .join('\n');
}

/**
 * Builds a function that locates a path in the parsed YAML document. A missing field is located
 * at its closest existing parent, so "missing required field" errors still point at a line.
 */
export function createLocator(doc: Document, lineCounter: LineCounter) {
  return function locate(path: readonly PathSegment[], keyOnly = false): { line: number; column: number } {
    for (let depth = path.length; depth >= 0; depth--) {
      const prefix = path.slice(0, depth);
      let node: unknown;
      if (keyOnly && depth === path.length && depth > 0) {
        const parent = prefix.length > 1 ? doc.getIn(prefix.slice(0, -1), true) : doc.contents;
        if (isMap(parent)) {
          const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === prefix[prefix.length - 1]);
          node = pair?.key;
        }
      } else {
        node = depth === 0 ? doc.contents : doc.getIn(prefix, true);
      }
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) {
        const pos = lineCounter.linePos(range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return { line: 0, column: 0 };
  };
}

/** Renders a value the way it appeared in YAML, short enough for one error line. */
export function renderValue(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
