/**
 * The analyzer's entry point: `initAnalyzer()` once (loads the wasm parser), then
 * `analyze(source)` synchronously, as often as the editor likes, or — the editor's path — one
 * `AnalysisSession` per document, whose `analyze(source)` reuses the previous parse and the
 * results of every unit of evaluation whose text did not change (and answers an edit of a
 * comment nothing reads without parsing). Both run the layers in order
 * — parse (`parse.ts`, copied into plain nodes by `syntax.ts`), split into units
 * (`units.ts`), bind (`bind.ts`), evaluate shapes (`evaluate.ts`), check (`rules/`) — and
 * return diagnostics (deduplicated, suppressions applied) and the inferred shapes of named
 * tensors. A session's result is identical to a cold `analyze` of the same text (tested on
 * random edits of the whole corpus). It never throws on user code: a rule that fails is
 * skipped for that event, a unit whose evaluation fails (a bug of ours, or a resource limit)
 * becomes one `internal` diagnostic on that unit's first line while the other units go on,
 * subtrees nested deeper than `MAX_TREE_DEPTH` are cut (with a notice), and an optional time
 * budget stops evaluating new units once spent (with a notice naming what was skipped).
 *
 * Invariant: nothing under src/analysis imports `vscode`.
 * Invariant: a unit's result depends only on its items' keys (their text without the comments
 * and docstring prose nothing reads) and the file's import aliases; rules see the file only
 * through the nodes they are given and `ctx.moduleAlias`.
 */

import type { Binding } from './bind';
import { aliasMap, bind, isSuppression, suppressions as suppressionComments } from './bind';
import type { Diagnostic, Range, RuleContext, Severity } from './diagnostics';
import { rangeOf } from './diagnostics';
import * as D from './dims';
import { Evaluator } from './evaluate';
import type { ShapeRecord } from './evaluate';
import type { Event } from './events';
import type { MaskPolarity } from './values';
import type { Tree } from './parse';
import { changedSpan, grammar, initParser, parse, parserReady, point, reparse, singleEdit } from './parse';
import { RULES } from './rules';
import { CAUSAL_HELPER } from './semantics/attention';
import type { Anchor, SyntaxNode } from './syntax';
import { convert, countErrors, Donor, lineStarts, MAX_TREE_DEPTH, rowOf, type TextEdit } from './syntax';
import type { Component, ItemInfo } from './units';
import { components, itemInfo } from './units';

export type { Diagnostic, Fix, Range, Severity, TextEdit, Rule } from './diagnostics';
export type { ShapeRecord } from './evaluate';
export { RULES, getRule } from './rules';
export { MAX_TREE_DEPTH } from './syntax';

export interface AnalyzeOptions {
  /** Only these rules (all when absent). */
  rules?: readonly string[];
  /**
   * Milliseconds of evaluation after which units not yet evaluated (and not cached) are
   * skipped; the result then holds what was found so far and a notice. No limit when absent.
   */
  budgetMs?: number;
}

/** Something the user should know about the analysis itself (not a finding in the code). */
export interface Notice {
  /** 0-based line the notice is about. */
  line: number;
  kind: 'truncated' | 'budget';
  message: string;
}

export interface Analysis {
  diagnostics: Diagnostic[];
  shapes: ShapeRecord[];
  /** Number of syntax error nodes in the tree (the analysis still ran). */
  syntaxErrors: number;
  /** Limits the analysis hit: subtrees cut for depth, units skipped for time. */
  notices: Notice[];
}

/**
 * The rule name of the diagnostic that stands for a failure of the analyzer on one unit (an
 * exception escaping the evaluator's guards, a resource limit). Not a rule of the registry:
 * it cannot be switched off, only fixed.
 */
export const INTERNAL_RULE = 'internal';

export const initAnalyzer = initParser;
export const analyzerReady = parserReady;

/** Analyzes one text from scratch (the CLI's path; the editor keeps an `AnalysisSession`). */
export function analyze(source: string, options: AnalyzeOptions = {}): Analysis {
  const s = new AnalysisSession();
  try {
    return s.analyze(source, options);
  } finally {
    s.dispose();
  }
}

/** The full lines of one or more top-level statements, converted once per text. */
interface Item {
  /** Unique per converted item: an item's text and nodes never change, so ids key the unit cache. */
  id: number;
  anchor: Anchor;
  /** Top-level nodes, comments and anonymous ones included. */
  nodes: SyntaxNode[];
  /** The named statements the evaluator runs. */
  stmts: SyntaxNode[];
  info: ItemInfo;
  /**
   * The item's text without the comments nothing reads (`semanticText`): items with the same key
   * evaluate to the same result at the same rows and columns, so it keys the unit cache.
   */
  key: string;
  errors: number;
  endRow: number;
  /** Rows, relative to the anchor, where a subtree was cut at MAX_TREE_DEPTH. */
  truncated: number[];
}

/** A unit's diagnostics and shapes, with every line stored as (item index in the unit, row in the item). */
interface UnitResult {
  diagnostics: Diagnostic[];
  shapes: ShapeRecord[];
  /** The evaluation failed (an `internal` diagnostic): never cached, so an edit retries it. */
  failed?: boolean;
  /** What True means in the results of the unit's causal-mask helpers (see `MaskCell`), with a helper's name. */
  maskConventions?: [MaskPolarity, string][];
  /**
   * The text each fix replaces, as it was when the fixes were computed. A fix is written from
   * the text it replaces, comments included, and the key leaves comments out: a cached result
   * whose fixes would replace other text now (a comment typed inside a fixed expression) is not
   * reused.
   */
  fixed?: string;
}

const SPAN = 1 << 22;
let nextItemId = 0;

/**
 * One document's analyses over time. Not shared between documents (it holds the previous
 * tree); `dispose()` frees the tree's WebAssembly memory.
 */
/** The node types a clean parse puts at the top level of a module: statements and comments. */
const TOP_LEVEL = /(?:_statement|_definition|^comment|^line_continuation)$/;

export class AnalysisSession {
  private tree: Tree | undefined;
  private source: string | undefined;
  /** The edit from the previous text to this one, when the tree was reparsed incrementally without errors. */
  private edit: TextEdit | undefined;
  /** The previous analysis's items and line starts: the donors of an incremental conversion. */
  private previous: { items: Item[]; starts: number[] } | undefined;
  /** Converted items of the previous analysis, by text (error-free ones only). */
  private pool = new Map<string, Item[]>();
  /** Unit results of the previous analysis, by unit key. */
  private results = new Map<string, UnitResult>();
  /**
   * The last analysis that parsed: its options, items and result. An edit that changes only a
   * comment nothing reads is answered from it (`commentEdit`).
   */
  private settled: { rules: string; items: Item[]; result: Analysis } | undefined;
  /** The text of the last `analyze`: `source`, or `source` with comment-only edits since. */
  private shown: string | undefined;
  /**
   * What the last `analyze` did: units evaluated, units whose result was reused, and whether it
   * parsed at all (a comment-only edit does not).
   */
  readonly last = { evaluated: 0, reused: 0, parsed: true };

  analyze(source: string, options: AnalyzeOptions = {}): Analysis {
    const quick = this.commentEdit(source, options);
    if (quick) return quick;
    this.settled = undefined;
    this.last.parsed = true;
    const tree = this.parse(source);
    const items = this.items(tree, source);
    // The aliases the file declares, in order: a library known without an import (`math`) is
    // in `aliases` either way, but only a declared one may be written into a fix.
    const declared = new Map(items.flatMap((it) => it.info.aliases));
    const aliases = aliasMap(declared);
    const aliasKey = [...declared].map(([k, v]) => `${k}=${v}`).join(';');
    const sup = new Map<number, Set<string>>();
    suppressionComments(
      items.flatMap((it) => it.info.comments),
      sup,
    );
    const results = new Map<string, UnitResult>();
    const diagnostics: Diagnostic[] = [];
    const shapes: ShapeRecord[] = [];
    const notices: Notice[] = [];
    for (const it of items) for (const r of new Set(it.truncated)) notices.push({ line: it.anchor.row + r, kind: 'truncated', message: `an expression nested more than ${MAX_TREE_DEPTH} levels deep was not analysed` });
    // The budget counts evaluation only: splitting a large file into units comes first.
    // Units that define a causal-mask helper go first: what its result means is the file's
    // convention for masks nobody passes (see `MaskCell`), an input of every other unit (and
    // part of its key, as the aliases are).
    const helperUnit = (c: Component) => c.items.some((i) => items[i].info.kind === 'def' && items[i].info.defs.some((d) => CAUSAL_HELPER.test(d)));
    const allComps = components(items.map((it) => it.info));
    const comps = [...allComps.filter(helperUnit), ...allComps.filter((c) => !helperUnit(c))];
    const helpers = comps.filter(helperUnit).length;
    const conventions = new Map<MaskPolarity, string>();
    let convention: [MaskPolarity, string] | undefined;
    let conventionKey = '';
    const deadline = options.budgetMs !== undefined ? Date.now() + options.budgetMs : Infinity;
    let skipped = 0;
    let firstSkipped = -1;
    this.last.evaluated = 0;
    this.last.reused = 0;
    for (const [ci, comp] of comps.entries()) {
      if (ci === helpers && conventions.size === 1) {
        convention = [...conventions][0];
        conventionKey = convention.join(':');
      }
      const its = comp.items.map((i) => items[i]);
      const cacheable = its.every((it) => it.errors === 0);
      // Keyed by text, comments nothing reads left out: an edit of such a comment costs no
      // evaluation (an early cutoff, as rust-analyzer's item tree gives one for edits in bodies).
      const key = cacheable ? `${aliasKey}\u0000${conventionKey}\u0000${its.map((it) => it.key).join('\u0001')}` : '';
      let r = cacheable ? results.get(key) ?? this.results.get(key) : undefined;
      if (r?.fixed !== undefined && r.fixed !== fixedText(r, its)) r = undefined;
      if (!r && Date.now() > deadline) {
        // Out of time: what was found so far stands; this unit is reported as skipped.
        skipped++;
        if (firstSkipped < 0) firstSkipped = its[0].anchor.row;
        continue;
      }
      if (r) this.last.reused++;
      else {
        r = this.evaluateIsolated(its, aliases, declared, convention);
        if (r.diagnostics.some((d) => d.fixes.length)) r.fixed = fixedText(r, its);
        this.last.evaluated++;
      }
      if (cacheable && !r.failed) results.set(key, r);
      for (const [p, name] of r.maskConventions ?? []) conventions.set(p, name);
      const at = (line: number) => its[Math.floor(line / SPAN)].anchor.row + (line % SPAN);
      for (const d of r.diagnostics) diagnostics.push({ ...d, range: moveRange(d.range, at), fixes: d.fixes.map((f) => ({ ...f, edits: f.edits.map((e) => ({ range: moveRange(e.range, at), newText: e.newText })) })) });
      for (const s of r.shapes) shapes.push({ ...s, line: at(s.line) });
    }
    this.results = results;
    const wanted = options.rules;
    const out = diagnostics
      .filter((d) => d.rule === INTERNAL_RULE || ((!wanted || wanted.includes(d.rule)) && !suppressed(sup, d.range, d.rule)))
      .sort((a, b) => a.range.line - b.range.line || a.range.column - b.range.column || a.rule.localeCompare(b.rule) || a.range.endLine - b.range.endLine || a.range.endColumn - b.range.endColumn);
    shapes.sort((a, b) => a.line - b.line || a.column - b.column || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let syntaxErrors = 0;
    for (const it of items) syntaxErrors += it.errors;
    if (skipped) notices.push({ line: firstSkipped, kind: 'budget', message: `analysis stopped after ${options.budgetMs} ms: ${skipped} unit(s) from line ${firstSkipped + 1} on were not analysed` });
    notices.sort((a, b) => a.line - b.line);
    const result = { diagnostics: out, shapes, syntaxErrors, notices };
    this.settled = { rules: rulesKey(options), items, result };
    this.shown = source;
    return copyOf(result);
  }

  /**
   * The answer to an edit that changes nothing but the comment at the end of one line — a comment
   * typed, edited or deleted after code, or edited on a line of its own — when that comment,
   * before and after, is one nothing reads (no bracket, no suppression): the last parsed result,
   * without parsing. The text of every item's key is then the same (a key leaves such comments
   * out, with the blanks before them), so the full path would reuse every unit's result; the
   * checks below are the cases where it would not. The tree stays the last parsed text's: the
   * next edit of another kind reparses from it, every comment edit since inside its one edit.
   * Undefined when the edit is of another kind.
   */
  private commentEdit(source: string, options: AnalyzeOptions): Analysis | undefined {
    const settled = this.settled;
    const parsed = this.source;
    const shown = this.shown;
    const starts = this.previous?.starts;
    if (!settled || parsed === undefined || shown === undefined || !starts || settled.rules !== rulesKey(options)) return undefined;
    const result = settled.result;
    // Where the full path would parse or evaluate again: an error (recovery may change), units
    // skipped for time, a failed unit (never cached).
    if (result.syntaxErrors > 0 || result.notices.some((n) => n.kind === 'budget') || result.diagnostics.some((d) => d.rule === INTERNAL_RULE)) return undefined;
    const span = changedSpan(shown, source);
    if (span) {
      if (hasBreak(shown, span.start, span.oldEnd) || hasBreak(source, span.start, span.newEnd)) return undefined;
      // One line changed, and every line keeps its row: find it in the parsed text.
      const { row, column } = point(source, span.start);
      const from = span.start - column;
      const to = source.indexOf('\n', span.start);
      if (row >= starts.length) return undefined;
      const now = withoutCr(source.slice(from, to < 0 ? source.length : to));
      const then = withoutCr(parsed.slice(starts[row], row + 1 < starts.length ? starts[row + 1] - 1 : parsed.length));
      if (now.cr !== then.cr) return undefined;
      const code = commentFree(settled.items, starts, row, then.line);
      if (code === undefined || !now.line.startsWith(code)) return undefined;
      const tail = now.line.slice(code.length);
      // A comment on a line of its own stays one (a blank line is another tree).
      const ownLine = code.trim() === '';
      if (ownLine ? !/^[ \t]*#/.test(tail) : tail !== '' && !/^[ \t]*#/.test(tail)) return undefined;
      if (!unread(tail) || !unread(then.line.slice(code.length))) return undefined;
      // A fix is written from the text it replaces: none may reach into the comment.
      for (const d of result.diagnostics) {
        for (const f of d.fixes) {
          for (const e of f.edits) {
            const g = e.range;
            if (g.line <= row && (g.endLine > row || (g.endLine === row && g.endColumn > code.length))) return undefined;
          }
        }
      }
    }
    this.shown = source;
    this.last.evaluated = 0;
    this.last.reused = 0;
    this.last.parsed = false;
    return copyOf(result);
  }

  dispose(): void {
    this.tree?.delete();
    this.tree = undefined;
    this.source = undefined;
    this.pool.clear();
    this.results.clear();
    this.previous = undefined;
    this.edit = undefined;
    this.settled = undefined;
    this.shown = undefined;
  }

  private parse(source: string): Tree {
    const prev = this.tree;
    let tree: Tree;
    this.edit = undefined;
    if (prev && this.source !== undefined) {
      const edit = singleEdit(this.source, source);
      if (edit) this.edit = { start: edit.startIndex, oldEnd: edit.oldEndIndex, newEnd: edit.newEndIndex };
      try {
        tree = reparse(source, this.source, prev, edit);
      } finally {
        prev.delete();
        this.tree = undefined;
      }
      // Error recovery may go another way on a reparse than on a fresh parse (an edit that closes
      // a string left open elsewhere): a tree with errors is parsed afresh, so an edited text
      // always gets the tree, items and counts a cold analysis of it gets.
      if (tree.rootNode.hasError) {
        tree.delete();
        tree = parse(source);
        this.edit = undefined;
      }
    } else tree = parse(source);
    this.tree = tree;
    this.source = source;
    return tree;
  }

  /** The file's items: reused by text from the previous analysis when error-free, else converted. */
  private items(tree: Tree, source: string): Item[] {
    const starts = lineStarts(source);
    const g = grammar();
    // The previous items the edit touched, with where their text began then (read before reuse
    // below moves any anchor): their nodes outside the edit are copied, not converted again.
    const edit = this.edit;
    const touched: { it: Item; base: number }[] = [];
    if (edit && this.previous) {
      for (const it of this.previous.items) {
        const base = this.previous.starts[it.anchor.row];
        if (base <= edit.oldEnd && base + it.anchor.text.length >= edit.start) touched.push({ it, base });
      }
    }
    let donor: Donor | undefined;
    const donorFor = (): Donor | undefined => {
      if (!edit || touched.length === 0) return undefined;
      if (!donor) {
        donor = new Donor();
        for (const { it, base } of touched) donor.add(it.nodes, base, edit);
      }
      return donor;
    };
    const rootHasError = tree.rootNode.hasError;
    const cursor = tree.walk();
    try {
      const kids: { s: number; e: number; r0: number; r1: number; err: boolean }[] = [];
      if (cursor.gotoFirstChild()) {
        do {
          const s = cursor.startIndex;
          const e = cursor.endIndex;
          // In a tree with errors, recovery can also leave bare pieces at the top level that hold
          // no error node (`result`, `=`, `y` of `result = y` after an unclosed bracket): they are
          // not the statement a clean parse of the same text gives, so they are never reused.
          kids.push({ s, e, r0: rowOf(starts, s), r1: rowOf(starts, Math.max(s, e - 1)), err: rootHasError && (!TOP_LEVEL.test(cursor.nodeType) || cursor.currentNode.hasError) });
        } while (cursor.gotoNextSibling());
        cursor.gotoParent();
      }
      // Group statements that share a line.
      const groups: { from: number; to: number; r0: number; r1: number; err: boolean; text: string }[] = [];
      kids.forEach((k, i) => {
        const last = groups[groups.length - 1];
        if (last && k.r0 <= last.r1) {
          last.to = i;
          last.r1 = Math.max(last.r1, k.r1);
          last.err ||= k.err;
        } else groups.push({ from: i, to: i, r0: k.r0, r1: k.r1, err: k.err, text: '' });
      });
      const pool = new Map<string, Item[]>();
      const out: (Item | undefined)[] = new Array(groups.length);
      const todo: number[] = [];
      groups.forEach((gr, gi) => {
        const end = gr.r1 + 1 < starts.length ? starts[gr.r1 + 1] - 1 : source.length;
        const text = source.slice(starts[gr.r0], end);
        const reuse = gr.err ? undefined : this.pool.get(text)?.shift();
        if (reuse) {
          reuse.anchor.row = gr.r0;
          reuse.endRow = gr.r1;
          out[gi] = reuse;
        } else {
          out[gi] = undefined;
          todo.push(gi);
        }
        // Remember the text for the conversion pass.
        gr.text = text;
      });
      if (todo.length) {
        const fresh = (gi: number): Item => {
          const gr = groups[gi];
          const it: Item = { id: ++nextItemId, anchor: { row: gr.r0, text: gr.text }, nodes: [], stmts: [], info: undefined as unknown as ItemInfo, key: '', errors: 0, endRow: gr.r1, truncated: [] };
          out[gi] = it;
          return it;
        };
        let todoNodes = 0;
        for (const gi of todo) todoNodes += groups[gi].to - groups[gi].from + 1;
        if (todo.length > 8 || todoNodes > 64) {
          // Many items or nodes to convert (a first analysis, or thousands of statements on one
          // line): one walk over the top-level nodes. Seeking each node by index instead costs a
          // scan of the root's children per node, quadratic in a long line.
          const need = new Set(todo);
          let gi = 0;
          let k = 0;
          if (cursor.gotoFirstChild()) {
            do {
              while (gi < groups.length && groups[gi].to < k) gi++;
              if (need.has(gi)) {
                const it = out[gi] ?? fresh(gi);
                it.nodes.push(convert(cursor, g, it.anchor, starts[groups[gi].r0], starts, (row) => it.truncated.push(row - groups[gi].r0), donorFor()));
              }
              k++;
            } while (cursor.gotoNextSibling());
            cursor.gotoParent();
          }
        } else {
          for (const gi of todo) {
            const gr = groups[gi];
            const it = fresh(gi);
            for (let k = gr.from; k <= gr.to; k++) {
              // Jump straight to the k-th top-level node (tree-sitter scans the children natively).
              let found = cursor.gotoFirstChildForIndex(kids[k].s) && cursor.startIndex === kids[k].s && cursor.endIndex === kids[k].e;
              if (!found) {
                // Zero-width nodes (missing tokens) are not found by index: count siblings instead.
                cursor.reset(tree.rootNode);
                found = cursor.gotoFirstChild();
                for (let j = 0; found && j < k; j++) found = cursor.gotoNextSibling();
              }
              if (found) {
                it.nodes.push(convert(cursor, g, it.anchor, starts[gr.r0], starts, (row) => it.truncated.push(row - gr.r0), donorFor()));
                cursor.gotoParent();
              }
            }
          }
        }
        for (const gi2 of todo) {
          const it = out[gi2]!;
          it.stmts = it.nodes.filter((n) => n.isNamed);
          it.info = itemInfo(it.stmts);
          it.key = semanticText(it.anchor.text, it.info);
          for (const n of it.nodes) it.errors += countErrors(n);
        }
      }
      for (const [gi, it] of out.entries()) {
        // An item with an anonymous top-level node (a bare `=` an error recovery left between
        // `result` and `y`) is a fragment of a statement the parser could not build, even with no
        // error node inside it: the same text parses as something else once the error is gone.
        if (!it || it.errors > 0 || groups[gi].err || it.nodes.some((n) => !n.isNamed)) continue;
        const l = pool.get(it.anchor.text);
        if (l) l.push(it);
        else pool.set(it.anchor.text, [it]);
      }
      this.pool = pool;
      this.previous = { items: [...pool.values()].flat().filter((it) => it.truncated.length === 0), starts };
      return out as Item[];
    } finally {
      cursor.delete();
    }
  }

  /**
   * `evaluate`, but a failure of ours (binding, evaluation or a resource limit such as the
   * stack) is one `internal` diagnostic on the unit's first line: the other units go on.
   */
  private evaluateIsolated(its: Item[], aliases: Map<string, string>, declared: Map<string, string>, convention?: [MaskPolarity, string]): UnitResult {
    try {
      return this.evaluate(its, aliases, declared, convention);
    } catch (e) {
      const first = its[0];
      const line = first.anchor.text.split('\n', 1)[0];
      const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      return {
        failed: true,
        shapes: [],
        diagnostics: [{ rule: INTERNAL_RULE, severity: 'warning', message: `the analyzer failed on this code and skipped it (${why.split('\n', 1)[0]}); please report it`, range: { line: 0, column: 0, endLine: 0, endColumn: line.length }, fixes: [] }],
      };
    }
  }

  /** Evaluates one unit and runs the rules on its events; lines in the result are unit-relative. */
  private evaluate(its: Item[], aliases: Map<string, string>, declared: Map<string, string>, convention?: [MaskPolarity, string]): UnitResult {
    const stmts = its.flatMap((it) => it.stmts);
    const binding: Binding = bind(
      stmts,
      aliases,
      its.flatMap((it) => it.info.comments),
    );
    const found = new Map<string, Diagnostic>();
    let current = '';
    // The context reads the evaluator through this holder: the two refer to each other.
    const holder: { ev?: Evaluator } = {};
    // The defaults a rule's 'ne' relied on during the current check (see `compareAtDefaults`):
    // what it reports is then a warning that names them.
    const assumed = new Map<string, number>();
    // The sizes chosen apart that a rule's 'ne' relied on (see `Evaluator.apart`): what it
    // reports is then a warning that says when the code runs.
    const apart: string[] = [];
    const ctx: RuleContext = {
      compare: (a, b, raises) => {
        const r = holder.ev!.compareAtDefaults(a, b);
        for (const [k, v] of r.assumed) assumed.set(k, v);
        if (raises && r.cmp === 'unknown' && holder.ev!.apart(a, b)) {
          apart.push(`${D.format(holder.ev!.norm(a))} == ${D.format(holder.ev!.norm(b))}${raises === 'broadcast' ? ' (or one of them is 1)' : ''}`);
          return 'ne';
        }
        return r.cmp;
      },
      same: (a, b) => holder.ev!.same(a, b),
      chosen: (d) => holder.ev!.chosen(d),
      severity: (...dims) => (dims.every((d) => D.isConst(holder.ev!.norm(d))) ? 'error' : 'warning'),
      fmt: (d) => D.format(holder.ev!.norm(d)),
      fmtShape: (dims) => `(${dims.map((d) => D.format(holder.ev!.norm(d))).join(', ')})`,
      value: (d) => D.constValue(holder.ev!.norm(d)),
      valueAtDefaults: (d) => {
        const r = holder.ev!.valueAtDefaults(d);
        for (const [k, v] of r.assumed) assumed.set(k, v);
        return r.value;
      },
      norm: (d) => holder.ev!.norm(d),
      blame: (vs, carries) => holder.ev!.blame(vs, carries),
      // From the import aliases, which are part of the unit's cache key (never the raw text).
      moduleAlias: (module) => [...declared].find(([, path]) => path === module)?.[0],
      report: ({ node, severity, message, fixes }) => {
        if (assumed.size) {
          const names = [...assumed].map(([k, v]) => `${k} = ${v}`);
          message = `${message} (with ${names.join(', ')}, ${names.length > 1 ? 'their defaults' : 'its default'})`;
          severity = 'warning';
        }
        if (apart.length) {
          message = `${message}: it runs only where ${[...new Set(apart)].join(' and ')}`;
          severity = 'warning';
        }
        const range = rangeOf(node);
        const key = `${current}:${range.line}:${range.column}:${range.endLine}:${range.endColumn}`;
        const prev = found.get(key);
        // The stronger finding wins; between equals, the first, unless only the later one has a
        // safe fix (a mask judged where it is used, after its helper's return was judged).
        const safer = prev && prev.severity === severity && !prev.fixes.some((x) => x.safe) && !!fixes?.some((x) => x.safe);
        if (prev && (prev.severity === 'error' || severity === 'warning') && !safer) return;
        found.set(key, { rule: current, severity, message, range, fixes: fixes ?? [] });
      },
    };
    const byKind = byKindTable();
    const emit = (e: Event) => {
      for (const r of byKind.get(e.kind) ?? []) {
        current = r.name;
        // Emptied, not replaced: nothing keeps them past the check.
        if (assumed.size) assumed.clear();
        if (apart.length) apart.length = 0;
        try {
          r.check(e, ctx);
        } catch {
          // A rule that trips on unusual code reports nothing for that event.
        }
      }
    };
    const ev = new Evaluator(stmts, binding, emit, convention);
    holder.ev = ev;
    try {
      ev.run();
    } catch {
      // The evaluator guards itself; this is the last line of defence.
    }
    // Store lines relative to the item that holds them.
    const rel = (line: number) => {
      let k = its.length - 1;
      while (k > 0 && its[k].anchor.row > line) k--;
      return k * SPAN + (line - its[k].anchor.row);
    };
    return {
      diagnostics: [...found.values()].map((d) => ({ ...d, range: moveRange(d.range, rel), fixes: d.fixes.map((f) => ({ ...f, edits: f.edits.map((e) => ({ range: moveRange(e.range, rel), newText: e.newText })) })) })),
      shapes: ev.records.map((s) => ({ ...s, line: rel(s.line) })),
      maskConventions: ev.maskConventions.length ? ev.maskConventions : undefined,
    };
  }
}

/** `options.rules` as a cache key. */
function rulesKey(options: AnalyzeOptions): string {
  return options.rules ? JSON.stringify(options.rules) : '*';
}

/** A result the caller may change without changing the session's. */
function copyOf(a: Analysis): Analysis {
  return { diagnostics: [...a.diagnostics], shapes: [...a.shapes], syntaxErrors: a.syntaxErrors, notices: [...a.notices] };
}

function hasBreak(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return true;
  }
  return false;
}

function withoutCr(line: string): { line: string; cr: boolean } {
  return line.endsWith('\r') ? { line: line.slice(0, -1), cr: true } : { line, cr: false };
}

/**
 * Line `row` of the parsed text (`line`) up to its comment, blanks before it left out, when a
 * comment may follow it without changing the tree around it: a line with code (not inside a
 * string, not continued by a backslash) or with a comment already. Undefined otherwise.
 */
function commentFree(items: readonly Item[], starts: readonly number[], row: number, line: string): string | undefined {
  let lo = 0;
  let hi = items.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (items[mid].anchor.row <= row) lo = mid;
    else hi = mid - 1;
  }
  const it = items[lo];
  if (!it || it.anchor.row > row || it.endRow < row) return undefined;
  const c = it.info.comments.find((n) => n.startPosition.row === row);
  const at = c ? c.startOffset - (starts[row] - starts[it.anchor.row]) : line.length;
  if (c && line[at] !== '#') return undefined;
  const text = line.slice(0, at).replace(/[ \t]+$/, '');
  if (!c && (line.length > text.length || text.trim() === '' || text.endsWith('\\') || it.nodes.some((n) => stringAcross(n, row)))) return undefined;
  return text;
}

/** Whether a string in `n` goes on past the end of line `row` (so a `#` there would be in it). */
function stringAcross(n: SyntaxNode, row: number): boolean {
  const a = n.startPosition.row;
  const b = n.endPosition.row;
  if (a > row || b <= row) return false;
  if (n.type === 'string') return true;
  return n.children.some((c) => stringAcross(c, row));
}

/** Whether a line's tail (blanks and a comment, or nothing) is one no analysis reads. */
function unread(tail: string): boolean {
  return !/[[(]/.test(tail) && !isSuppression(tail);
}

/**
 * An item's text without what cannot change its evaluation: the comments nothing reads
 * (`ItemInfo.inertComments` between statements and `proseComments` inside one: no bracket), the
 * tail of a shape comment after a further bracket-free `#`, and the prose of docstrings.
 * A comment goes with the blanks before it. Newlines and all code are kept, so two items with the
 * same key have their code at the same rows and columns.
 */
function semanticText(text: string, info: ItemInfo): string {
  const cuts: { from: number; to: number; by: string }[] = [];
  const unread = new Set([...info.inertComments, ...info.proseComments]);
  for (const c of unread) {
    // The blanks before a comment go with it: they only ever end a line.
    let from = c.startOffset;
    while (from > 0 && (text[from - 1] === ' ' || text[from - 1] === '\t')) from--;
    cuts.push({ from, to: c.endOffset, by: '' });
  }
  // A comment that is read (a shape comment) is read up to a further `#` whose text has no
  // bracket and no arrow (`# (B, N, C)  # why`): that tail is left out too.
  for (const c of info.comments) {
    if (unread.has(c)) continue;
    const read = readPart(c.text);
    if (read.length < c.text.length) cuts.push({ from: c.startOffset + read.length, to: c.endOffset, by: '' });
  }
  for (const d of info.docstrings) {
    const body = text.slice(d.startOffset, d.endOffset);
    // Code after the closing quotes on their line (`"""doc"""; x = 1`) keeps its column: the
    // last line is then kept as written.
    const after = text.slice(d.endOffset, (text.indexOf('\n', d.endOffset) + 1 || text.length + 1) - 1);
    const prose = docstringKey(body, !/^\s*(#.*)?$/.test(after));
    if (prose !== body) cuts.push({ from: d.startOffset, to: d.endOffset, by: prose });
  }
  if (cuts.length === 0) return text;
  cuts.sort((x, y) => x.from - y.from);
  let out = '';
  let at = 0;
  for (const c of cuts) {
    out += text.slice(at, Math.max(at, c.from)) + c.by;
    at = Math.max(at, c.to);
  }
  return out + text.slice(at);
}

/** The text every fix edit of a unit result replaces, in the unit's items (see `UnitResult.fixed`). */
function fixedText(r: UnitResult, its: Item[]): string {
  const lines = new Map<number, string[]>();
  const line = (l: number): string => {
    const k = Math.floor(l / SPAN);
    let ls = lines.get(k);
    if (!ls) lines.set(k, (ls = its[k]?.anchor.text.split('\n') ?? []));
    return ls[l % SPAN] ?? '';
  };
  const parts: string[] = [];
  for (const d of r.diagnostics) {
    for (const f of d.fixes) {
      for (const e of f.edits) {
        const { line: l0, column: c0, endLine: l1, endColumn: c1 } = e.range;
        if (l0 === l1) parts.push(line(l0).slice(c0, c1));
        else {
          const mid: string[] = [line(l0).slice(c0)];
          for (let l = l0 + 1; l < l1; l++) mid.push(line(l));
          mid.push(line(l1).slice(0, c1));
          parts.push(mid.join('\n'));
        }
      }
    }
  }
  return parts.join('\u0000');
}

/** A comment without its trailing `# …` parts that hold no bracket and no arrow. */
function readPart(text: string): string {
  let t = text;
  for (;;) {
    const m = /\s*#[^#()[\]{}]*$/.exec(t);
    if (!m || m.index === 0 || /->|\u2192/.test(m[0])) return t;
    t = t.slice(0, m.index);
  }
}

/**
 * A docstring as far as the analyzer reads it. Docstrings are read for shapes only
 * (`Evaluator.docShape`): a parameter's name with a bracketed shape on its line, or a shape right
 * after the opening quotes; a bracket group may span lines, and every shape has a comma inside
 * its brackets (`(B, N, C)`, `(B,)`). So the quotes, blank lines, lines with a comma inside a
 * bracket, lines that leave a bracket open, lines inside an open bracket group and the blank lines
 * before the first line of text are kept; every other line (prose, `(13 x 17)`, `x (Tensor): the
 * input`, a later blank line, the first and the last too) becomes one mark. Lines stay lines,
 * and the text after the docstring keeps its place.
 */
function docstringKey(body: string, keepLast = false): string {
  const open = /^[rRuUbB]*("""|'''|"|')/.exec(body);
  if (!open || !body.endsWith(open[1]) || body.length < open[0].length + open[1].length) return body;
  const lines = body.slice(open[0].length, body.length - open[1].length).split('\n');
  // The first and last lines' prose too: a shape right after the opening quotes has a bracket.
  // Blank lines before the first line of text are kept (a shape right after the opening quotes
  // may follow them); after it, a blank line outside every bracket group is prose too.
  let depth = 0;
  let text = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (keepLast && i === lines.length - 1) break;
    const blank = l.trim() === '';
    const after = brackets(l, depth);
    // A line outside every group that closes what it opens, with no comma inside: no shape can use it.
    if (depth === 0 && (blank ? text : after.depth === 0 && !after.comma)) lines[i] = '\u00b7';
    else depth = after.depth;
    if (!blank) text = true;
  }
  return open[0] + lines.join('\n') + open[1];
}

/**
 * The bracket depth after a line, from `depth` before it (a closing bracket at depth 0 closes
 * nothing), and whether a comma sits inside a bracket on it.
 */
function brackets(l: string, depth: number): { depth: number; comma: boolean } {
  let comma = false;
  for (let i = 0; i < l.length; i++) {
    const ch = l[i];
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if ((ch === ')' || ch === ']' || ch === '}') && depth > 0) depth--;
    else if (ch === ',' && depth > 0) comma = true;
  }
  return { depth, comma };
}

let kindTable: Map<Event['kind'], (typeof RULES)[number][]> | undefined;

function byKindTable(): Map<Event['kind'], (typeof RULES)[number][]> {
  if (kindTable) return kindTable;
  const m = new Map<Event['kind'], (typeof RULES)[number][]>();
  for (const r of RULES) for (const k of r.on) m.set(k, [...(m.get(k) ?? []), r]);
  return (kindTable = m);
}

function moveRange(r: Range, f: (line: number) => number): Range {
  return { line: f(r.line), column: r.column, endLine: f(r.endLine), endColumn: r.endColumn };
}

function suppressed(map: Map<number, Set<string>>, r: Range, rule: string): boolean {
  for (let l = r.line; l <= r.endLine; l++) {
    const s = map.get(l);
    if (s && (s.has('*') || s.has(rule))) return true;
  }
  return false;
}

export type { Severity as DiagnosticSeverity };
