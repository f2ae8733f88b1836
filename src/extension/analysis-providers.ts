/**
 * The analyzer in the editor: diagnostics for open Python documents (on open and on change,
 * debounced, superseded runs cancelled and stale results dropped by `scheduler.ts`), code
 * actions, hovers with inferred shapes, inlay hints in `forward`, and the read-only rule
 * documentation pages that `diagnostic.code` links to. Every decision is made by the pure
 * functions of `analysis-view.ts`; this file translates between them and `vscode` objects.
 *
 * The analyzer module and its parser (WebAssembly) load on first use, not at activation: the
 * bundle's analyzer is behind a dynamic `import()` (esbuild keeps such a module's code in a
 * closure until it is first required), so activation pays for neither. Requests wait for it. Latest results per document are cached (keyed by URI and version) so hovers and
 * hints reuse the diagnostics run instead of analysing again. Settings are read when used,
 * never cached.
 *
 * Documents are analysed off the extension host's thread: `analysis-client.ts` posts the text
 * to the analyzer's worker thread (`analysis-worker.ts`, one incremental session per open
 * document), with a time budget per analysis (`EDITOR_BUDGET_MS`); past it the document gets
 * what was found so far and an information notice. A hover or an inlay-hint request during the
 * debounce shares the analysis in flight for that version instead of starting another. Check
 * Workspace uses the same thread; notebooks (`notebook-analysis.ts`) still analyse on the host.
 */

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Analysis, Diagnostic as AfDiagnostic, Range as AfRange, TextEdit as AfTextEdit } from '../analysis';
import {
  DOCS_SCHEME,
  parseRuleLevel,
  planCodeActions,
  resourceFromDocsQuery,
  RULE_SETTING_PREFIX,
  ruleDocsMarkdown,
  ruleDocsUri,
  ruleFromDocsPath,
  SETTINGS_SECTION,
  shapeAt,
  shapeHints,
  shownSeverity,
} from './analysis-view';
import { AnalysisWorkerClient, Superseded } from './analysis-client';
import { CELL_SCHEME } from './notebook-analysis';
import { realTimer, Scheduler, type SchedulerStats } from './scheduler';

export const DIAGNOSTIC_SOURCE = 'attention-forge';

/**
 * Milliseconds of evaluation per analysis of an open document: past it, units not yet
 * evaluated are skipped (with a notice) so a huge file still gets its first results quickly;
 * unchanged units keep their cached results on the next edit, so results fill in as it is edited.
 */
export const EDITOR_BUDGET_MS = 2000;

type AnalyzerModule = typeof import('../analysis');

/** Loads the analyzer module (once; the module system caches it). */
export function loadAnalyzer(): Promise<AnalyzerModule> {
  return import('../analysis');
}

const SEVERITY: Record<'error' | 'warning' | 'information' | 'hint', vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

export function toRange(r: AfRange): vscode.Range {
  return new vscode.Range(r.line, r.column, r.endLine, r.endColumn);
}

/** A Python file; notebook cells are not analysed alone (see `notebook-analysis.ts`). */
function isPython(doc: vscode.TextDocument): boolean {
  return doc.languageId === 'python' && doc.uri.scheme !== 'output' && doc.uri.scheme !== 'git' && doc.uri.scheme !== CELL_SCHEME;
}

interface Cached {
  version: number;
  analysis: Analysis;
}

/** Keeps diagnostics of open Python documents current and serves the shape providers. */
export class AnalysisController implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection(DIAGNOSTIC_SOURCE);
  private readonly cache = new Map<string, Cached>();
  /** Files whose problems Check Workspace published: they stay in Problems after closing. */
  private readonly checked = new Set<string>();
  private readonly scheduler: Scheduler<Analysis>;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly hintsChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeHints = this.hintsChanged.event;
  private ready: Promise<AnalyzerModule> | undefined;
  /** A notebook cell's share of its notebook's analysis (set by `NotebookAnalyses`). */
  cellAnalysis: ((doc: vscode.TextDocument) => Promise<Analysis | undefined>) | undefined;
  /** The analyzer's thread: every open document's analyses run there. */
  private readonly client: AnalysisWorkerClient;
  /** The analysis in flight per document, with the version it analyses (hovers share it). */
  private readonly inflight = new Map<string, { version: number; result: Promise<Analysis> }>();
  /** Keys of one-off analyses on the worker (texts of no open document). */
  private oneOff = 0;

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.client = new AnalysisWorkerClient({ script: path.join(__dirname, 'analysis-worker.js'), log: (m) => this.log.warn(m) });
    this.scheduler = new Scheduler<Analysis>(
      realTimer,
      (key) => vscode.workspace.textDocuments.find((d) => d.uri.toString() === key)?.version,
      (key, analysis, version) => this.publish(vscode.Uri.parse(key), analysis, version),
    );
    this.disposables.push(
      this.collection,
      this.hintsChanged,
      vscode.workspace.onDidOpenTextDocument((d) => this.request(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length) this.request(e.document, debounceMs(e.document));
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SETTINGS_SECTION}.${RULE_SETTING_PREFIX.replace(/\.$/, '')}`)) this.refreshAll();
        if (e.affectsConfiguration(`${SETTINGS_SECTION}.shapeHints`)) this.hintsChanged.fire();
      }),
    );
    for (const d of vscode.workspace.textDocuments) this.request(d, 0);
  }

  /** Loads the analyzer and its parser once; later calls share the load. */
  whenReady(): Promise<AnalyzerModule> {
    if (!this.ready) {
      const t0 = Date.now();
      this.ready = loadAnalyzer().then(async (m) => {
        await m.initAnalyzer();
        this.log.info(`analyzer ready in ${Date.now() - t0} ms`);
        return m;
      });
      this.ready.catch(
        (e: unknown) => {
          this.ready = undefined;
          this.log.error(`analyzer failed to load: ${e instanceof Error ? e.message : String(e)}`);
        },
      );
    }
    return this.ready;
  }

  /** Analyses a text that belongs to no open document (Check Workspace), on the analyzer's thread. */
  async analyzeText(text: string): Promise<Analysis> {
    const key = `text:${++this.oneOff}`;
    try {
      return (await this.client.analyze(key, text, EDITOR_BUDGET_MS)).analysis;
    } finally {
      this.client.close(key);
    }
  }

  /** The analysis of a document at its current version: the one in flight when there is one. */
  private analyzeDocument(doc: vscode.TextDocument): Promise<Analysis> {
    const key = doc.uri.toString();
    const version = doc.version;
    const current = this.inflight.get(key);
    if (current && current.version === version) return current.result;
    const t0 = Date.now();
    const result = this.client.analyze(key, doc.getText(), EDITOR_BUDGET_MS).then((r) => {
      if (Date.now() - t0 > 1000) this.log.info(`${vscode.workspace.asRelativePath(doc.uri)}: analysed in ${r.ms.toFixed(0)} ms (${Date.now() - t0} ms with waiting)`);
      return r.analysis;
    });
    const entry = { version, result };
    this.inflight.set(key, entry);
    const done = () => {
      if (this.inflight.get(key) === entry) this.inflight.delete(key);
    };
    result.then(done, done);
    return result;
  }

  request(doc: vscode.TextDocument, delayMs: number): void {
    if (!isPython(doc)) return;
    const version = doc.version;
    this.scheduler.request(
      doc.uri.toString(),
      {
        version,
        run: async (token) => {
          if (token.cancelled) throw new Error('cancelled');
          try {
            return await this.analyzeDocument(doc);
          } catch (e) {
            if (!(e instanceof Superseded)) this.log.error(`analysis of ${vscode.workspace.asRelativePath(doc.uri)} failed: ${e instanceof Error ? e.message : String(e)}`);
            throw e;
          }
        },
      },
      delayMs,
    );
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    this.scheduler.cancel(key);
    this.cache.delete(key);
    this.inflight.delete(key);
    this.client.close(key);
    if (!this.checked.has(key)) {
      // An open file's problems go when it closes, as with other linters.
      this.collection.delete(uri);
      return;
    }
    // A file Check Workspace reported on keeps its problems, for its saved text (edits may
    // have been discarded on close).
    void vscode.workspace.fs
      .readFile(uri)
      .then((bytes) => this.analyzeText(new TextDecoder().decode(bytes)))
      .then(
        (a) => this.publishChecked(uri, a),
        () => this.collection.delete(uri),
      );
  }

  /** Publishes a Check Workspace result; the file's problems then outlive its editor. */
  publishChecked(uri: vscode.Uri, analysis: Analysis): void {
    this.checked.add(uri.toString());
    this.collection.set(uri, this.toDiagnostics(uri, analysis.diagnostics, analysis.notices));
  }

  private refreshAll(): void {
    for (const d of vscode.workspace.textDocuments) {
      const c = this.cache.get(d.uri.toString());
      if (c && c.version === d.version) this.publish(d.uri, c.analysis, c.version);
      else this.request(d, 0);
    }
  }

  /** Shows an analysis in Problems (open documents, or files from Check Workspace). */
  publish(uri: vscode.Uri, analysis: Analysis, version?: number): void {
    if (version !== undefined) this.cache.set(uri.toString(), { version, analysis });
    this.collection.set(uri, this.toDiagnostics(uri, analysis.diagnostics, analysis.notices));
    this.hintsChanged.fire();
  }

  toDiagnostics(uri: vscode.Uri, diags: readonly AfDiagnostic[], notices: Analysis['notices'] = []): vscode.Diagnostic[] {
    const config = vscode.workspace.getConfiguration(SETTINGS_SECTION, uri);
    const out: vscode.Diagnostic[] = [];
    // Limits the analysis hit (time budget, nesting depth): said once, where they apply.
    for (const n of notices) {
      const v = new vscode.Diagnostic(new vscode.Range(n.line, 0, n.line, 0), `Attention Forge: ${n.message}`, vscode.DiagnosticSeverity.Information);
      v.source = DIAGNOSTIC_SOURCE;
      v.code = `analysis-${n.kind}`;
      out.push(v);
    }
    for (const d of diags) {
      const sev = shownSeverity(d, parseRuleLevel(config.get(`${RULE_SETTING_PREFIX}${d.rule}`)));
      if (!sev) continue;
      const v = new vscode.Diagnostic(toRange(d.range), d.message, SEVERITY[sev]);
      v.source = DIAGNOSTIC_SOURCE;
      v.code = { value: d.rule, target: vscode.Uri.parse(ruleDocsUri(d.rule, uri.toString())) };
      out.push(v);
    }
    return out;
  }

  /** The latest analysis of a document at its current version, analysing now if needed. */
  async analysisOf(doc: vscode.TextDocument): Promise<Analysis | undefined> {
    if (doc.uri.scheme === CELL_SCHEME) return this.cellAnalysis?.(doc);
    const c = this.cache.get(doc.uri.toString());
    if (c && c.version === doc.version) return c.analysis;
    const version = doc.version;
    try {
      const analysis = await this.analyzeDocument(doc);
      if (doc.version === version) this.cache.set(doc.uri.toString(), { version, analysis });
      return analysis;
    } catch {
      // Superseded by an edit, or the thread failed: nothing current to show.
      return undefined;
    }
  }

  /** The analyzer's diagnostics (not the editor's) overlapping a range, for code actions. */
  async diagnosticsAt(doc: vscode.TextDocument, range: vscode.Range): Promise<AfDiagnostic[]> {
    const a = await this.analysisOf(doc);
    if (!a) return [];
    const config = vscode.workspace.getConfiguration(SETTINGS_SECTION, doc.uri);
    return a.diagnostics.filter((d) => toRange(d.range).intersection(range) !== undefined && shownSeverity(d, parseRuleLevel(config.get(`${RULE_SETTING_PREFIX}${d.rule}`))) !== undefined);
  }

  /** Tells the inlay hint provider that hints may have changed. */
  refreshHints(): void {
    this.hintsChanged.fire();
  }

  logError(message: string): void {
    this.log.error(message);
  }

  get stats(): Scheduler<Analysis>['stats'] {
    return this.scheduler.stats;
  }

  /** The scheduler's stats for one document, and whether it has nothing pending or running. */
  statsOf(uri: vscode.Uri): SchedulerStats & { idle: boolean } {
    const key = uri.toString();
    return { ...this.scheduler.statsOf(key), idle: this.scheduler.idle(key) };
  }

  dispose(): void {
    this.scheduler.dispose();
    void this.client.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

function debounceMs(doc: vscode.TextDocument): number {
  const v = vscode.workspace.getConfiguration(SETTINGS_SECTION, doc.uri).get<number>('diagnostics.debounceMs', 300);
  return typeof v === 'number' && v >= 0 ? Math.min(v, 5000) : 300;
}

function toWorkspaceEdit(uri: vscode.Uri, edits: readonly AfTextEdit[]): vscode.WorkspaceEdit {
  const w = new vscode.WorkspaceEdit();
  for (const e of edits) w.replace(uri, toRange(e.range), e.newText);
  return w;
}

export class FixProvider implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  constructor(private readonly analysis: AnalysisController) {}

  async provideCodeActions(doc: vscode.TextDocument, range: vscode.Range, context: vscode.CodeActionContext, token: vscode.CancellationToken): Promise<vscode.CodeAction[]> {
    if (context.only && !vscode.CodeActionKind.QuickFix.intersects(context.only)) return [];
    const diags = await this.analysis.diagnosticsAt(doc, range);
    if (token.isCancellationRequested || diags.length === 0) return [];
    const lines = doc.getText().split(/\r?\n/);
    const shown = context.diagnostics.filter((d) => d.source === DIAGNOSTIC_SOURCE);
    return planCodeActions(diags, lines).map((p) => {
      const a = new vscode.CodeAction(p.title, vscode.CodeActionKind.QuickFix);
      a.edit = toWorkspaceEdit(doc.uri, p.edits);
      a.isPreferred = p.preferred;
      const d = diags[p.diagnostic];
      a.diagnostics = shown.filter((s) => typeof s.code === 'object' && s.code.value === d.rule && s.range.isEqual(toRange(d.range)));
      return a;
    });
  }
}

export class ShapeHoverProvider implements vscode.HoverProvider {
  constructor(private readonly analysis: AnalysisController) {}

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.Hover | undefined> {
    const a = await this.analysis.analysisOf(doc);
    if (!a) return undefined;
    const s = shapeAt(a.shapes, doc.getText().split(/\r?\n/), pos.line, pos.character);
    if (!s) return undefined;
    const md = new vscode.MarkdownString();
    md.appendCodeblock(`${s.name}: ${s.shape}`, 'python');
    md.appendMarkdown('*inferred by Attention Forge*');
    return new vscode.Hover(md, new vscode.Range(pos.line, s.start, pos.line, s.end));
  }
}

export class ShapeInlayHintsProvider implements vscode.InlayHintsProvider {
  readonly onDidChangeInlayHints: vscode.Event<void>;

  constructor(private readonly analysis: AnalysisController) {
    this.onDidChangeInlayHints = analysis.onDidChangeHints;
  }

  async provideInlayHints(doc: vscode.TextDocument, range: vscode.Range): Promise<vscode.InlayHint[]> {
    if (!vscode.workspace.getConfiguration(SETTINGS_SECTION, doc.uri).get<boolean>('shapeHints.enabled', true)) return [];
    const a = await this.analysis.analysisOf(doc);
    if (!a) return [];
    return shapeHints(a.shapes, doc.getText().split(/\r?\n/))
      .filter((h) => h.line >= range.start.line && h.line <= range.end.line)
      .map((h) => {
        const hint = new vscode.InlayHint(new vscode.Position(h.line, h.character), h.label, vscode.InlayHintKind.Type);
        hint.paddingLeft = true;
        hint.tooltip = 'Shape inferred by Attention Forge';
        return hint;
      });
  }
}

/**
 * Serves `attention-forge-docs:/rules/<name>.md`, rendered from the rule registry with the
 * severity the editor uses under the linking file's settings (the page updates when they
 * change), and shows such a page as formatted documentation: a diagnostic's code link opens it
 * as text, so that text tab is replaced by the built-in Markdown preview of the same page.
 */
export class RuleDocsProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = DOCS_SCHEME;
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [
    this.changed,
    vscode.workspace.registerTextDocumentContentProvider(DOCS_SCHEME, this),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(`${SETTINGS_SECTION}.${RULE_SETTING_PREFIX.replace(/\.$/, '')}`)) return;
      for (const d of vscode.workspace.textDocuments) if (d.uri.scheme === DOCS_SCHEME) this.changed.fire(d.uri);
    }),
    vscode.window.tabGroups.onDidChangeTabs((e) => {
      for (const tab of e.opened) if (tab.input instanceof vscode.TabInputText && tab.input.uri.scheme === DOCS_SCHEME) void this.showFormatted(tab, tab.input.uri);
    }),
  ];

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const { getRule, RULES } = await loadAnalyzer();
    const name = ruleFromDocsPath(uri.path);
    const rule = name ? getRule(name) : undefined;
    if (rule) {
      const resource = resourceFromDocsQuery(uri.query);
      const config = vscode.workspace.getConfiguration(SETTINGS_SECTION, resource ? vscode.Uri.parse(resource) : undefined);
      return ruleDocsMarkdown(rule, parseRuleLevel(config.get(`${RULE_SETTING_PREFIX}${rule.name}`)));
    }
    return ['# Attention Forge rules', '', ...RULES.map((r) => `- \`${r.name}\`: ${r.summary}`), ''].join('\n');
  }

  private async showFormatted(tab: vscode.Tab, uri: vscode.Uri): Promise<void> {
    try {
      await vscode.commands.executeCommand('markdown.showPreview', uri);
      await vscode.window.tabGroups.close(tab, true);
    } catch {
      // Without the built-in Markdown extension the page stays open as Markdown text.
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
