/**
 * Which files `attention-forge check` reads, and reading them safely. A directory walk never
 * follows a symbolic link to a directory (so a link loop cannot trap it), skips dangling links,
 * FIFOs, sockets and devices with a warning instead of opening them (opening a FIFO blocks
 * until a writer appears), skips hidden and virtual-environment folders, and honours
 * `.gitignore` files and `--exclude` patterns (the gitignore syntax: `*`, `**`, `?`, `[...]`,
 * a trailing `/` for directories only, a leading or inner `/` anchoring the pattern, `!`
 * re-including). A path named on the command line is followed even when it is a link: the
 * user asked for it. Reading opens without blocking and checks that what was opened is a
 * regular file no larger than `MAX_FILE_BYTES`.
 *
 * Nothing here throws on what it finds on disk: every problem is a warning or a read error
 * returned to the caller; only a command-line path that does not exist is a usage error.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';

/** Larger files are skipped with a warning: no source file people write is this big. */
export const MAX_FILE_BYTES = 32 * 1024 * 1024;

/** Folders a walk never enters (besides hidden ones). */
const SKIPPED_DIRS = new Set(['node_modules', '__pycache__', 'venv']);

export class NoSuchPathError extends Error {}

export interface Collected {
  files: string[];
  /** One line each: what was skipped and why. */
  warnings: string[];
}

/** One compiled gitignore-style pattern, relative to `base` (a directory, '' for the walk's root). */
interface Rule {
  base: string;
  re: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

/** A gitignore glob (without `!` and trailing `/`) as a regular expression over `/`-separated relative paths. */
function globToRegExp(glob: string, anchored: boolean): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        const slashBefore = i === 0 || glob[i - 1] === '/';
        if (slashBefore && slashAfter) {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < glob.length) {
      re += glob[i + 1].replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      i++;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  // Unanchored patterns match at any depth; a match of a directory covers what is below it.
  return new RegExp(`^${anchored ? '' : '(?:.*/)?'}${re}(?:/.*)?$`);
}

/** Parses gitignore-style lines into rules relative to `base`. */
export function parseIgnore(text: string, base: string): Rule[] {
  const out: Rule[] = [];
  for (let line of text.split(/\r?\n/)) {
    line = line.replace(/(?<!\\)\s+$/, '');
    if (!line || line.startsWith('#')) continue;
    let negate = false;
    if (line.startsWith('!')) {
      negate = true;
      line = line.slice(1);
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) line = line.slice(1);
    let dirOnly = false;
    if (line.endsWith('/')) {
      dirOnly = true;
      line = line.replace(/\/+$/, '');
    }
    if (!line) continue;
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    out.push({ base, re: globToRegExp(line, anchored), negate, dirOnly });
  }
  return out;
}

/** Whether `rel` (relative to the walk's root, `/`-separated) is excluded: the last matching rule decides. */
export function isIgnored(rules: readonly Rule[], rel: string, isDir: boolean): boolean {
  let ignored = false;
  for (const r of rules) {
    if (r.base && !(rel === r.base || rel.startsWith(`${r.base}/`))) continue;
    const sub = r.base ? rel.slice(r.base.length + 1) : rel;
    if (!sub) continue;
    if (r.dirOnly && !isDir) {
      // `build/` still excludes files below a directory named build.
      const parent = sub.includes('/') ? sub.slice(0, sub.lastIndexOf('/')) : '';
      if (!parent || !r.re.test(parent)) continue;
    } else if (!r.re.test(sub)) continue;
    ignored = !r.negate;
  }
  return ignored;
}

function isCandidate(name: string, extensions: readonly string[]): boolean {
  return extensions.some((e) => name.endsWith(e));
}

/**
 * The files to check under `paths`: directories walked (see the module header), files named
 * directly always included. `exclude` patterns apply relative to each directory given.
 */
export function collectSourceFiles(paths: readonly string[], options: { exclude?: readonly string[]; extensions?: readonly string[]; gitignore?: boolean } = {}): Collected {
  const extensions = options.extensions ?? ['.py'];
  const files: string[] = [];
  const warnings: string[] = [];
  const seenDirs = new Set<string>();
  // Command-line patterns come after every .gitignore's, so they win (the last match decides).
  const excludeRules = parseIgnore((options.exclude ?? []).join('\n'), '');
  interface Frame {
    rel: string;
    dir: string;
    gitRules: Rule[];
    rules: Rule[];
    entries: fs.Dirent[];
    next: number;
  }
  /** Lists a directory (once per device and inode) with the ignore rules that apply in it, or warns. */
  const open = (dir: string, rel: string, inherited: Rule[]): Frame | undefined => {
    let st: fs.Stats;
    try {
      st = fs.statSync(dir);
    } catch (e) {
      warnings.push(`${dir}: skipped (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      return undefined;
    }
    // A bind mount or a hard-linked directory could still revisit a directory: never twice.
    const id = `${st.dev}:${st.ino}`;
    if (seenDirs.has(id)) return undefined;
    seenDirs.add(id);
    let gitRules = inherited;
    if (options.gitignore !== false) {
      const gi = readSource(path.join(dir, '.gitignore'));
      if ('text' in gi) gitRules = [...inherited, ...parseIgnore(gi.text, rel)];
    }
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      warnings.push(`${dir}: cannot list (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      return undefined;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { rel, dir, gitRules, rules: [...gitRules, ...excludeRules], entries, next: 0 };
  };
  // Depth-first in name order with an explicit stack of open directories (no recursion).
  const walk = (root: string) => {
    const first = open(root, '', []);
    const stack: Frame[] = first ? [first] : [];
    while (stack.length) {
      const fr = stack[stack.length - 1];
      if (fr.next >= fr.entries.length) {
        stack.pop();
        continue;
      }
      const e = fr.entries[fr.next++];
      const { rules } = fr;
      const name = e.name;
      if (name.startsWith('.') || SKIPPED_DIRS.has(name)) continue;
      const full = path.join(fr.dir, name);
      const childRel = fr.rel ? `${fr.rel}/${name}` : name;
      if (e.isSymbolicLink()) {
        let target: fs.Stats;
        try {
          target = fs.statSync(full);
        } catch (err) {
          if (isCandidate(name, extensions) && !isIgnored(rules, childRel, false)) warnings.push(`${full}: skipped, a dangling symbolic link (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
          continue;
        }
        if (target.isDirectory()) {
          if (!isIgnored(rules, childRel, true)) warnings.push(`${full}: skipped, a symbolic link to a directory (name it on the command line to check it)`);
          continue;
        }
        if (!isCandidate(name, extensions) || isIgnored(rules, childRel, false)) continue;
        if (!target.isFile()) warnings.push(`${full}: skipped, a link to a special file (not a regular file)`);
        else files.push(full);
        continue;
      }
      if (e.isDirectory()) {
        if (isIgnored(rules, childRel, true)) continue;
        const child = open(full, childRel, fr.gitRules);
        if (child) stack.push(child);
        continue;
      }
      if (!isCandidate(name, extensions) || isIgnored(rules, childRel, false)) continue;
      if (e.isFile()) files.push(full);
      else warnings.push(`${full}: skipped, a special file (FIFO, socket or device), not a regular file`);
    }
  };
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new NoSuchPathError(`no such file or directory: ${p}`);
      if (code === 'ELOOP') throw new NoSuchPathError(`${p}: too many levels of symbolic links`);
      throw new NoSuchPathError(`${p}: ${code ?? (e as Error).message}`);
    }
    if (st.isDirectory()) walk(p);
    else if (st.isFile()) files.push(p);
    else warnings.push(`${p}: skipped, a special file (FIFO, socket or device), not a regular file`);
  }
  return { files, warnings };
}

/**
 * Reads a source file without ever blocking: opened non-blocking, checked to be a regular file
 * of at most `MAX_FILE_BYTES` through the open descriptor (so a file swapped for a FIFO after
 * the walk is still refused). Invalid UTF-8 becomes U+FFFD, as editors show it. `skip`: by
 * policy (not a regular file, too large); `error`: the system refused (permissions, I/O).
 */
export function readSource(file: string): { text: string } | { skip: string } | { error: string } {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    return { error: `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { skip: 'not a regular file' };
    if (st.size > MAX_FILE_BYTES) return { skip: `larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB (${(st.size / 1024 / 1024).toFixed(1)} MiB)` };
    return { text: fs.readFileSync(fd, 'utf8') };
  } catch (e) {
    return { error: `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  } finally {
    fs.closeSync(fd);
  }
}
