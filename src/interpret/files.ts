/**
 * Where the interpreter finds the Python files a user's module imports: relative imports in the
 * importing file's package, absolute ones under the given roots (the user's folder and
 * workspace), then in the installed pure-Python packages (`PYTHONPATH`, an active virtual
 * environment, the user's and the system's site- and dist-packages). Only `.py` files are
 * read, and none larger than `MAX_MODULE_BYTES`; torch itself is never read from disk (the
 * interpreter knows its API).
 */

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Module files larger than this are not read (a generated table, not code a module needs). */
export const MAX_MODULE_BYTES = 2 << 20;

function isFile(p: string): boolean {
  try {
    const st = fs.statSync(p);
    return st.isFile() && st.size <= MAX_MODULE_BYTES;
  } catch {
    return false;
  }
}

function subdirs(dir: string, re: RegExp): string[] {
  try {
    return fs.readdirSync(dir).filter((d) => re.test(d)).map((d) => path.join(dir, d));
  } catch {
    return [];
  }
}

/** Folders of installed Python packages, most specific first. */
export function pythonPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const p of (env.PYTHONPATH ?? '').split(path.delimiter)) if (p) out.push(p);
  if (env.VIRTUAL_ENV) for (const lib of subdirs(path.join(env.VIRTUAL_ENV, 'lib'), /^python3/)) out.push(path.join(lib, 'site-packages'));
  for (const lib of subdirs(path.join(os.homedir(), '.local', 'lib'), /^python3/)) out.push(path.join(lib, 'site-packages'));
  for (const lib of subdirs('/usr/local/lib', /^python3/)) out.push(path.join(lib, 'dist-packages'), path.join(lib, 'site-packages'));
  out.push('/usr/lib/python3/dist-packages');
  for (const lib of subdirs('/usr/lib', /^python3\.\d+$/)) out.push(path.join(lib, 'site-packages'));
  return out.filter((p, i) => out.indexOf(p) === i);
}

/** The file of module `name` (dotted; `level` leading dots for a relative import) imported from `fromFile`, or null. */
export function findModule(name: string, level: number, fromFile: string, roots: readonly string[]): string | null {
  const parts = name ? name.split('.') : [];
  if (parts[0] === 'torch') return null;
  const candidates = (base: string) => [path.join(base, ...parts) + '.py', path.join(base, ...parts, '__init__.py')].filter((p) => !p.endsWith(`${path.sep}.py`));
  if (level > 0) {
    let base = path.dirname(path.resolve(fromFile));
    for (let i = 1; i < level; i++) base = path.dirname(base);
    return candidates(base).find(isFile) ?? null;
  }
  if (!parts.length) return null;
  for (const root of roots) {
    const hit = candidates(root).find(isFile);
    if (hit) return hit;
  }
  return null;
}
