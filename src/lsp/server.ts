/**
 * The analyzer as a language server (`attention-forge lsp --stdio`), for editors other than
 * VS Code — Neovim, Helix, Zed, Emacs — and anything else that speaks LSP. It publishes the
 * analyzer's diagnostics for open Python documents and answers code actions (the fixes and the
 * suppression comment), hovers (the inferred shape of the name under the cursor; the rule's
 * docs on a finding) and inlay hints (shapes of assignments in `forward`).
 *
 * Each open document has one incremental `AnalysisSession` (the editor's path of the analyzer:
 * only units whose text changed are evaluated again); it is analysed on open and, debounced, on
 * change, and its latest analysis serves every request for that version. The presentation
 * decisions are the same pure functions the VS Code extension uses (`extension/analysis-view.ts`,
 * which imports no `vscode`); settings come from `initializationOptions` and
 * `workspace/didChangeConfiguration` as the same `attentionForge` section VS Code has
 * (`rules.<name>`, `shapeHints.enabled`, `diagnostics.debounceMs`).
 *
 * Nothing here writes to stdout except the connection: the protocol owns it.
 */

import type { Connection, Diagnostic as LspDiagnostic, InitializeResult, Range as LspRange } from 'vscode-languageserver/node';
import { CodeActionKind, DiagnosticSeverity, InlayHintKind, MarkupKind, TextDocuments, TextDocumentSyncKind } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Analysis, Diagnostic, Range } from '../analysis';
import { AnalysisSession, getRule, initAnalyzer } from '../analysis';
import { parseRuleLevel, planCodeActions, shapeAt, shapeHints, shownSeverity } from '../extension/analysis-view';
import type { RuleLevel } from '../extension/analysis-view';

export const SERVER_NAME = 'attention-forge';

/** The `attentionForge` settings the server reads. */
export interface ServerSettings {
  rules: Record<string, RuleLevel>;
  shapeHints: boolean;
  debounceMs: number;
}

/**
 * Reads `attentionForge` settings defensively (anything unknown is the default), given either
 * the section itself or an object holding it under `attentionForge` (clients differ: Neovim
 * sends `settings` as configured, Helix its `config` table as is).
 */
export function parseSettings(value: unknown): ServerSettings {
  const outer = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  const inner = outer.attentionForge;
  const s = (inner && typeof inner === 'object' ? inner : outer) as Record<string, unknown>;
  const rules: Record<string, RuleLevel> = {};
  const r = s.rules;
  if (r && typeof r === 'object') for (const [k, v] of Object.entries(r)) rules[k] = parseRuleLevel(v);
  // Flat keys (`"rules.mask-polarity": "off"`) are how VS Code-style settings files spell them.
  for (const [k, v] of Object.entries(s)) if (k.startsWith('rules.')) rules[k.slice('rules.'.length)] = parseRuleLevel(v);
  const hints = (s.shapeHints as { enabled?: unknown } | undefined)?.enabled ?? s['shapeHints.enabled'];
  const debounce = (s.diagnostics as { debounceMs?: unknown } | undefined)?.debounceMs ?? s['diagnostics.debounceMs'];
  return {
    rules,
    shapeHints: typeof hints === 'boolean' ? hints : true,
    debounceMs: typeof debounce === 'number' && debounce >= 0 ? Math.min(debounce, 5000) : 300,
  };
}

/** Whether a settings value carries any of ours (the section, or its keys at the top). */
export function mentionsSettings(value: unknown): boolean {
  if (!value || typeof value !== 'object') return false;
  return Object.keys(value).some((k) => k === 'attentionForge' || k === 'rules' || k === 'shapeHints' || k === 'diagnostics' || /^(rules|shapeHints|diagnostics)\./.test(k));
}

const SEVERITY = { error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, information: DiagnosticSeverity.Information, hint: DiagnosticSeverity.Hint } as const;

function toLspRange(r: Range): LspRange {
  return { start: { line: r.line, character: r.column }, end: { line: r.endLine, character: r.endColumn } };
}

function overlaps(a: LspRange, b: LspRange): boolean {
  const before = (p: LspRange['start'], q: LspRange['start']) => p.line < q.line || (p.line === q.line && p.character < q.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}

interface OpenDocument {
  session: AnalysisSession;
  /** The latest analysis and the version it is of. */
  analysis?: Analysis;
  version?: number;
  timer?: ReturnType<typeof setTimeout>;
}

/** Serves the analyzer over `connection` until it closes. */
export function startServer(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  const open = new Map<string, OpenDocument>();
  let settings = parseSettings(undefined);
  let clientRefreshesHints = false;
  const ready = initAnalyzer();
  ready.catch((e: unknown) => connection.console.error(`attention-forge: the analyzer could not start: ${e instanceof Error ? e.message : String(e)}`));

  const isPython = (doc: TextDocument) => doc.languageId === 'python';
  const shown = (d: Diagnostic) => shownSeverity(d, settings.rules[d.rule] ?? 'default');

  /** The analysis of a document at its current version (analysing now when the latest is older). */
  const current = async (uri: string): Promise<{ doc: TextDocument; analysis: Analysis } | undefined> => {
    const doc = documents.get(uri);
    const state = open.get(uri);
    if (!doc || !state || !isPython(doc)) return undefined;
    await ready;
    if (state.version !== doc.version || !state.analysis) {
      state.analysis = state.session.analyze(doc.getText());
      state.version = doc.version;
    }
    return { doc, analysis: state.analysis };
  };

  const toLspDiagnostics = (analysis: Analysis): LspDiagnostic[] =>
    analysis.diagnostics.flatMap((d) => {
      const sev = shown(d);
      return sev ? [{ range: toLspRange(d.range), severity: SEVERITY[sev], code: d.rule, source: SERVER_NAME, message: d.message }] : [];
    });

  const publish = async (uri: string): Promise<void> => {
    try {
      const r = await current(uri);
      if (!r) return;
      // A newer version arrived while the analyzer was loading: its own run publishes it.
      if (documents.get(uri)?.version !== r.doc.version) return;
      await connection.sendDiagnostics({ uri, version: r.doc.version, diagnostics: toLspDiagnostics(r.analysis) });
      // Hints are pulled by the client; tell it they changed when it can be told.
      if (settings.shapeHints && clientRefreshesHints) void connection.languages.inlayHint.refresh().catch(() => undefined);
    } catch (e) {
      connection.console.error(`attention-forge: analysis of ${uri} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
  };

  const schedule = (doc: TextDocument, delayMs: number) => {
    if (!isPython(doc)) return;
    let state = open.get(doc.uri);
    if (!state) open.set(doc.uri, (state = { session: new AnalysisSession() }));
    if (state.timer) clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void publish(doc.uri);
    }, delayMs);
  };

  connection.onInitialize((params): InitializeResult => {
    settings = parseSettings(params.initializationOptions);
    clientRefreshesHints = params.capabilities.workspace?.inlayHint?.refreshSupport === true;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        hoverProvider: true,
        inlayHintProvider: true,
      },
      serverInfo: { name: SERVER_NAME },
    };
  });

  connection.onDidChangeConfiguration((params) => {
    // Settings meant for other servers (or none) leave ours as they are.
    if (!mentionsSettings(params.settings)) return;
    settings = parseSettings(params.settings);
    for (const uri of open.keys()) void publish(uri);
  });

  // Fired on open (analysed at once) and on every change (debounced).
  documents.onDidChangeContent((e) => schedule(e.document, open.has(e.document.uri) ? settings.debounceMs : 0));
  documents.onDidClose((e) => {
    const state = open.get(e.document.uri);
    if (state?.timer) clearTimeout(state.timer);
    state?.session.dispose();
    open.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onCodeAction(async (params) => {
    const r = await current(params.textDocument.uri);
    if (!r) return [];
    if (params.context.only && !params.context.only.some((k) => k === CodeActionKind.QuickFix || CodeActionKind.QuickFix.startsWith(`${k}.`))) return [];
    const diags = r.analysis.diagnostics.filter((d) => shown(d) !== undefined && overlaps(toLspRange(d.range), params.range));
    if (diags.length === 0) return [];
    const lines = r.doc.getText().split(/\r?\n/);
    return planCodeActions(diags, lines).map((p) => {
      const d = diags[p.diagnostic];
      const range = toLspRange(d.range);
      return {
        title: p.title,
        kind: CodeActionKind.QuickFix,
        isPreferred: p.preferred,
        diagnostics: params.context.diagnostics.filter((c) => c.code === d.rule && c.range.start.line === range.start.line && c.range.start.character === range.start.character),
        edit: { changes: { [params.textDocument.uri]: p.edits.map((e) => ({ range: toLspRange(e.range), newText: e.newText })) } },
      };
    });
  });

  connection.onHover(async (params) => {
    const r = await current(params.textDocument.uri);
    if (!r) return null;
    const { line, character } = params.position;
    const parts: string[] = [];
    const s = shapeAt(r.analysis.shapes, r.doc.getText().split(/\r?\n/), line, character);
    if (s) parts.push(`\`\`\`python\n${s.name}: ${s.shape}\n\`\`\`\n*inferred by Attention Forge*`);
    const here = { start: params.position, end: params.position };
    for (const d of r.analysis.diagnostics) {
      if (!shown(d) || !overlaps(toLspRange(d.range), here)) continue;
      const rule = getRule(d.rule);
      parts.push(`**${d.rule}**${rule ? `: ${rule.summary}` : ''}\n\n${rule?.docs.what ?? ''}\n\nSuppress with \`# attention-forge: ignore[${d.rule}]\`.`);
    }
    if (parts.length === 0) return null;
    return { contents: { kind: MarkupKind.Markdown, value: parts.join('\n\n---\n\n') }, ...(s ? { range: { start: { line, character: s.start }, end: { line, character: s.end } } } : {}) };
  });

  connection.languages.inlayHint.on(async (params) => {
    if (!settings.shapeHints) return [];
    const r = await current(params.textDocument.uri);
    if (!r) return [];
    return shapeHints(r.analysis.shapes, r.doc.getText().split(/\r?\n/))
      .filter((h) => h.line >= params.range.start.line && h.line <= params.range.end.line)
      .map((h) => ({ position: { line: h.line, character: h.character }, label: h.label, kind: InlayHintKind.Type, paddingLeft: true, tooltip: 'Shape inferred by Attention Forge' }));
  });

  connection.onShutdown(() => {
    for (const state of open.values()) {
      if (state.timer) clearTimeout(state.timer);
      state.session.dispose();
    }
    open.clear();
  });

  documents.listen(connection);
  connection.listen();
}
