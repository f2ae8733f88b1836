/**
 * Where generated code goes, as pure functions without the catalog (no `vscode` import;
 * unit-tested in test/unit/scaffold.test.ts): a new file name that never collides with an
 * existing one, and how generated code is inserted into an existing document — the body at the
 * cursor, only the imports the document lacks at its import block.
 */

import type { Language } from '../protocol/form';

/** The editor language id of each target language. */
export const LANGUAGE_IDS: Record<Language, string> = { pytorch: 'python', typescript: 'typescript' };

// ------------------------------------------------------------------ new files

/** `cnn-mha` → `cnn_mha.py` / `cnnMha.ts`: importable module names. */
export function baseFileName(blockId: string, language: Language): string {
  if (language === 'pytorch') return `${blockId.replace(/[^A-Za-z0-9]+/g, '_')}.py`;
  return `${blockId.replace(/[^A-Za-z0-9]+(.)/g, (_, c: string) => c.toUpperCase())}.ts`;
}

/** The first of `name`, `name_2`, `name_3`… that `exists` says is free: a new file never overwrites. */
export function freeFileName(base: string, exists: (name: string) => boolean): string {
  if (!exists(base)) return base;
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  const ext = dot > 0 ? base.slice(dot) : '';
  for (let i = 2; ; i++) {
    const name = `${stem}_${i}${ext}`;
    if (!exists(name)) return name;
  }
}

// ------------------------------------------------------------------ insertion into a document

/** A 0-based insertion point and the text to insert there. */
export interface Insertion {
  line: number;
  character: number;
  text: string;
}

/** True for a line that is an import statement of the language. */
function isImport(line: string, language: Language): boolean {
  return language === 'pytorch' ? /^(import|from)\s+\S/.test(line) : /^import\s/.test(line);
}

/** Normalised form used to decide whether a document already has an import. */
function importKey(line: string): string {
  return line.trim().replace(/\s+/g, ' ');
}

/**
 * Splits generated code into its import lines and the rest (header comment and classes).
 * Imports are the top-level import statements before the first class or function.
 */
export function splitImports(code: string, language: Language): { imports: string[]; body: string } {
  const lines = code.split('\n');
  const imports: string[] = [];
  const rest: string[] = [];
  let inPrelude = true;
  for (const l of lines) {
    if (inPrelude && /^(class|def|export|function|const)\b/.test(l)) inPrelude = false;
    if (inPrelude && isImport(l, language)) imports.push(l);
    else rest.push(l);
  }
  // Collapse the blank lines the removed imports leave behind.
  const body = rest.join('\n').replace(/\n{3,}/g, '\n\n\n').replace(/^\n+/, '');
  return { imports, body };
}

/**
 * Where the document's import block ends (the line after its last top-level import), skipping
 * a shebang, an encoding line, a module docstring and `from __future__` imports when there
 * are no imports yet. 0 for an empty document.
 */
export function importInsertLine(lines: readonly string[], language: Language): number {
  let last = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (isImport(l, language)) last = i;
    else if (/^(class|def|export|function|const|let|var|@)\b/.test(l)) break;
  }
  if (last >= 0) return last + 1;
  let i = 0;
  if (language === 'pytorch') {
    while (i < lines.length && /^#/.test(lines[i])) i++;
    const doc = lines[i]?.match(/^\s*[rRuU]?("""|''')/);
    if (doc) {
      const q = doc[1];
      const rest = lines[i].slice(lines[i].indexOf(q) + 3);
      if (!rest.includes(q)) {
        i++;
        while (i < lines.length && !lines[i].includes(q)) i++;
      }
      i++;
    }
  }
  return Math.min(i, lines.length);
}

const NAMED_IMPORT = /^import\s*(type\s+)?\{([^}]*)\}\s*from\s*(['"])([^'"]+)\3\s*;?\s*$/;

/**
 * TypeScript imports the document lacks, by name: `import { nn, Tensor } from 'm'` in the
 * document and `import { nn, Tensor, TorchError } from 'm'` in the code give
 * `import { TorchError } from 'm';` — adding the code's line as it is would import `nn` twice, a
 * duplicate identifier. Lines that are not plain named imports are compared as text.
 */
function missingNamedImports(docLines: readonly string[], imports: readonly string[], text: ReadonlySet<string>): string[] {
  const have = new Map<string, Set<string>>();
  for (const l of docLines) {
    const m = NAMED_IMPORT.exec(l.trim());
    if (!m || m[1]) continue;
    const names = have.get(m[4]) ?? new Set<string>();
    for (const n of m[2].split(',')) if (n.trim()) names.add(n.trim());
    have.set(m[4], names);
  }
  const out: string[] = [];
  for (const l of imports) {
    const m = NAMED_IMPORT.exec(l.trim());
    if (!m || m[1]) {
      if (!text.has(importKey(l))) out.push(l);
      continue;
    }
    const present = have.get(m[4]) ?? new Set<string>();
    const need = m[2].split(',').map((n) => n.trim()).filter((n) => n && !present.has(n));
    if (need.length) out.push(`import { ${need.join(', ')} } from ${m[3]}${m[4]}${m[3]};`);
  }
  return out;
}

/**
 * The edits that insert generated code into a document at the cursor: missing imports (those
 * whose normalised text is not already a line of the document) at the import block, the body
 * at the cursor. When the cursor is inside or above the import block, everything goes at the
 * cursor, imports first, so no edit lands after the body it belongs to.
 */
export function planInsertion(documentText: string, code: string, cursor: { line: number; character: number }, language: Language): Insertion[] {
  const lines = documentText.split(/\r?\n/);
  const have = new Set(lines.map(importKey));
  const { imports, body } = splitImports(code, language);
  const missing = language === 'typescript' ? missingNamedImports(lines, imports, have) : imports.filter((l) => !have.has(importKey(l)));
  const at = importInsertLine(lines, language);
  const bodyText = (cursor.character > 0 ? '\n' : '') + body.replace(/\n*$/, '\n');
  if (missing.length === 0) return [{ line: cursor.line, character: cursor.character, text: bodyText }];
  if (cursor.line < at || (lines.length === 1 && lines[0] === '')) {
    return [{ line: cursor.line, character: cursor.character, text: `${missing.join('\n')}\n\n\n${bodyText.replace(/^\n/, '')}` }];
  }
  // Imports at the end of the import block; a blank line separates them from code that follows.
  const needsGap = at < lines.length && lines[at].trim() !== '' && !isImport(lines[at], language);
  const importText = missing.join('\n') + '\n' + (needsGap ? '\n' : '');
  return [
    { line: at, character: 0, text: importText },
    { line: cursor.line, character: cursor.character, text: bodyText },
  ];
}
