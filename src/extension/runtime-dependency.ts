/**
 * Whether a project that just received generated TypeScript can import `attention-forge/runtime`,
 * and the edits that make it able to, as pure functions (no `vscode` import; unit-tested in
 * test/unit/runtime-dependency.test.ts, end to end with `npm install` and `tsc --strict`).
 *
 * No registry serves the runtime, so the extension carries it: `scripts/build.mjs` packs the
 * runtime alone (package name `attention-forge`, only the `./runtime` export) into
 * `dist/attention-forge-runtime.tgz`. A project that has neither `node_modules/attention-forge`
 * (in its folder or above: Node's resolution) nor an `attention-forge` entry in its nearest
 * package.json is offered one edit: the tarball copied to `vendor/attention-forge-runtime-<version>.tgz`
 * and a `file:` dependency on it added to that package.json (created when there is none), after
 * which `npm install` is the one command to run. The package.json edit is an insertion into the
 * existing text, so its formatting, key order and comments-free JSON stay as the user wrote them.
 */

/** The package name generated TypeScript imports (`attention-forge/runtime`). */
export const RUNTIME_PACKAGE = 'attention-forge';

/** Where the built tarball lies in the extension (and in the repository after a build). */
export const BUNDLED_RUNTIME_TARBALL = 'dist/attention-forge-runtime.tgz';

/** The command that installs the dependency once it is declared. */
export const INSTALL_COMMAND = 'npm install';

const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const;

/** The vendored tarball's path relative to the project folder (forward slashes). */
export function vendoredTarballPath(version: string): string {
  return `vendor/attention-forge-runtime-${version}.tgz`;
}

/** The `file:` specifier package.json gets for the vendored tarball. */
export function dependencySpec(version: string): string {
  return `file:${vendoredTarballPath(version)}`;
}

/** True when generated TypeScript imports the runtime (only then is anything offered). */
export function importsRuntime(code: string): boolean {
  return /from\s+['"]attention-forge\/runtime['"]/.test(code);
}

/**
 * The folders to look in, from the document's folder up to the root: the nearest one holding a
 * package.json is the project, and `node_modules/attention-forge` in any of them resolves.
 * Paths are POSIX-style (the extension passes `Uri.path`s).
 */
export function ancestorFolders(docPath: string): string[] {
  const parts = docPath.split('/').slice(0, -1);
  const out: string[] = [];
  for (let i = parts.length; i >= 1; i--) out.push(parts.slice(0, i).join('/') || '/');
  return out;
}

/** A text insertion at a 0-based line and character (UTF-16), like an editor's. */
export interface TextInsertion {
  line: number;
  character: number;
  text: string;
}

/** What the project needs; `offer` carries everything the extension writes. */
export type RuntimePlan =
  | { kind: 'present'; reason: string }
  | { kind: 'unreadable'; packageJson: string; reason: string }
  | {
      kind: 'offer';
      /** The project folder (the nearest one with a package.json, else the fallback folder). */
      projectDir: string;
      /** The package.json to edit (or create). */
      packageJson: string;
      /** Insertions into the existing package.json; `create` is its text when there is none. */
      packageJsonEdit: { insert: TextInsertion[] } | { create: string };
      /** Absolute path of the tarball copy to create (skipped when it already exists). */
      tarball: string;
      /** The same, relative to the project folder. */
      tarballRelative: string;
      spec: string;
      command: string;
      /** One line for the notification that offers the change. */
      question: string;
      /** One line for after the change. */
      done: string;
    };

export interface ProjectFacts {
  /** The generated file's path (POSIX). */
  docPath: string;
  /** The folder a package.json is created in when no ancestor has one (the workspace folder). */
  fallbackDir: string;
  /** The nearest package.json at or above the document's folder (within the workspace), if any. */
  packageJson?: { path: string; text: string };
  /** Whether `node_modules/attention-forge/package.json` exists in the document's folder or above. */
  runtimeInstalled: boolean;
  /** The extension's (and so the bundled runtime's) version. */
  version: string;
}

/**
 * The decision: nothing when the runtime is installed or declared (whatever the version: the
 * user's choice stands), no offer when package.json is not JSON (it is never rewritten), else
 * the offer with its edits.
 */
export function planRuntimeDependency(f: ProjectFacts): RuntimePlan {
  if (f.runtimeInstalled) return { kind: 'present', reason: `node_modules/${RUNTIME_PACKAGE} is installed` };
  const spec = dependencySpec(f.version);
  const tarballRelative = vendoredTarballPath(f.version);
  const common = { spec, command: INSTALL_COMMAND, tarballRelative };
  if (!f.packageJson) {
    const packageJson = `${f.fallbackDir.replace(/\/$/, '')}/package.json`;
    const name = (f.fallbackDir.split('/').filter(Boolean).pop() ?? 'project').toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'project';
    return {
      kind: 'offer',
      ...common,
      projectDir: f.fallbackDir,
      packageJson,
      packageJsonEdit: { create: `${JSON.stringify({ name, version: '1.0.0', private: true, dependencies: { [RUNTIME_PACKAGE]: spec } }, null, 2)}\n` },
      tarball: `${f.fallbackDir.replace(/\/$/, '')}/${tarballRelative}`,
      question: `The generated code imports '${RUNTIME_PACKAGE}/runtime', which no registry serves. Create package.json with a dependency on the runtime this extension carries (${tarballRelative})?`,
      done: `Added ${RUNTIME_PACKAGE} (${tarballRelative}) to the new package.json. Run \`${INSTALL_COMMAND}\` in ${f.fallbackDir} to install it.`,
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(f.packageJson.text);
  } catch (e) {
    return { kind: 'unreadable', packageJson: f.packageJson.path, reason: `${f.packageJson.path} is not valid JSON (${(e as Error).message})` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { kind: 'unreadable', packageJson: f.packageJson.path, reason: `${f.packageJson.path} is not a JSON object` };
  const pkg = parsed as Record<string, unknown>;
  for (const field of DEPENDENCY_FIELDS) {
    const deps = pkg[field];
    if (deps && typeof deps === 'object' && RUNTIME_PACKAGE in deps) return { kind: 'present', reason: `${f.packageJson.path} lists ${RUNTIME_PACKAGE} in ${field}` };
  }
  const insert = addDependency(f.packageJson.text, RUNTIME_PACKAGE, spec);
  if (!insert) return { kind: 'unreadable', packageJson: f.packageJson.path, reason: `${f.packageJson.path} could not be edited safely` };
  const projectDir = f.packageJson.path.replace(/\/package\.json$/, '') || '/';
  return {
    kind: 'offer',
    ...common,
    projectDir,
    packageJson: f.packageJson.path,
    packageJsonEdit: { insert },
    tarball: `${projectDir.replace(/\/$/, '')}/${tarballRelative}`,
    question: `The generated code imports '${RUNTIME_PACKAGE}/runtime', which no registry serves. Add the runtime this extension carries to ${projectDir.split('/').pop() || projectDir}/package.json (${tarballRelative})?`,
    done: `Added ${RUNTIME_PACKAGE} (${tarballRelative}) to package.json. Run \`${INSTALL_COMMAND}\` in ${projectDir} to install it.`,
  };
}

// ------------------------------------------------------------------ package.json text edits

/** One pass over JSON text: string spans (so braces and colons inside strings are skipped). */
function scan(text: string): { open: number; close: number; keyAt: (key: string) => { valueStart: number } | undefined; lastMemberEnd: number } | undefined {
  let depth = 0;
  let open = -1;
  let close = -1;
  const topKeys = new Map<string, number>();
  let lastValueEnd = -1;
  let pendingKey: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        const k = text.slice(i, j + 1);
        // A key is a string followed by a colon.
        const after = /^\s*:/.exec(text.slice(j + 1));
        if (after) pendingKey = JSON.parse(k) as string;
        else lastValueEnd = j + 1;
      }
      i = j;
      continue;
    }
    if (c === ':' && depth === 1 && pendingKey !== undefined) {
      let v = i + 1;
      while (/\s/.test(text[v] ?? '')) v++;
      topKeys.set(pendingKey, v);
      pendingKey = undefined;
      continue;
    }
    if (c === '{' || c === '[') {
      if (depth === 0) open = i;
      depth++;
      continue;
    }
    if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) {
        close = i;
        break;
      }
      if (depth === 1) lastValueEnd = i + 1;
      continue;
    }
    if (depth === 1 && !/[\s,]/.test(c)) lastValueEnd = i + 1;
  }
  if (open < 0 || close < 0) return undefined;
  return { open, close, keyAt: (k) => (topKeys.has(k) ? { valueStart: topKeys.get(k)! } : undefined), lastMemberEnd: lastValueEnd };
}

function position(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset).split(/\r\n|\n/);
  return { line: before.length - 1, character: before[before.length - 1].length };
}

/** The indentation of one level, as the file writes it (default two spaces). */
function indentUnit(text: string): string {
  return /\n([ \t]+)"/.exec(text)?.[1] ?? '  ';
}

/**
 * The insertions that add `"name": "spec"` to the top-level `dependencies` object (created
 * after the last top-level member when absent), in the file's indentation and line endings.
 * Undefined when the text has no top-level object or the result would not parse back with the
 * dependency in place (the caller then edits nothing).
 */
export function addDependency(text: string, name: string, spec: string): TextInsertion[] | undefined {
  const s = scan(text);
  if (!s || text[s.open] !== '{') return undefined;
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const unit = indentUnit(text);
  const entry = `${JSON.stringify(name)}: ${JSON.stringify(spec)}`;
  let offset: number;
  let insertText: string;
  const deps = s.keyAt('dependencies');
  if (deps) {
    if (text[deps.valueStart] !== '{') return undefined;
    // The dependencies object: its members' end and its closing brace.
    const inner = scan(text.slice(deps.valueStart));
    if (!inner) return undefined;
    const closeAt = deps.valueStart + inner.close;
    if (inner.lastMemberEnd < 0) {
      offset = deps.valueStart + 1;
      insertText = `${eol}${unit}${unit}${entry}${eol}${unit}`;
      // `{}` or `{ }` becomes a multi-line object; whitespace inside is left after it.
      if (text.slice(offset, closeAt).trim() !== '') return undefined;
    } else {
      offset = deps.valueStart + inner.lastMemberEnd;
      const memberIndent = /\n([ \t]*)"[^\n]*$/.exec(text.slice(0, offset))?.[1];
      insertText = memberIndent !== undefined && text.slice(deps.valueStart, offset).includes('\n') ? `,${eol}${memberIndent}${entry}` : `, ${entry}`;
    }
  } else if (s.lastMemberEnd < 0) {
    offset = s.open + 1;
    insertText = `${eol}${unit}"dependencies": {${eol}${unit}${unit}${entry}${eol}${unit}}${eol}`;
    if (text.slice(offset, s.close).trim() !== '') return undefined;
  } else {
    offset = s.lastMemberEnd;
    insertText = `,${eol}${unit}"dependencies": {${eol}${unit}${unit}${entry}${eol}${unit}}`;
  }
  const result = text.slice(0, offset) + insertText + text.slice(offset);
  try {
    const back = JSON.parse(result) as { dependencies?: Record<string, unknown> };
    if (back.dependencies?.[name] !== spec) return undefined;
  } catch {
    return undefined;
  }
  return [{ ...position(text, offset), text: insertText }];
}

/** Applies insertions to a text (for tests and for a package.json that is not open). */
export function applyInsertions(text: string, edits: readonly TextInsertion[]): string {
  const lines = text.split('\n');
  for (const e of [...edits].sort((a, b) => b.line - a.line || b.character - a.character)) {
    const l = lines[e.line] ?? '';
    lines[e.line] = l.slice(0, e.character) + e.text + l.slice(e.character);
  }
  return lines.join('\n');
}
