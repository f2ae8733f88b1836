/**
 * How the analyzer's results are shown in the editor, as pure functions over plain data (no
 * `vscode` import; unit-tested in test/unit/analysis-view.test.ts): per-rule severity
 * settings and the manifest properties generated for them, the severity a diagnostic gets
 * under those settings, which fixes become code actions and which one (at most) is preferred,
 * the shape shown when hovering a name, the inlay hints at assignments in `forward`, the rule
 * documentation page a diagnostic code links to, and the suppression comment edit. The
 * providers in `analysis-providers.ts` only translate these into `vscode` objects.
 *
 * It talks to the analyzer only through `src/analysis/index.ts` (`analyze`, `RULES`).
 */

import type { Diagnostic, Fix, Rule, ShapeRecord, TextEdit } from '../analysis';

export const SETTINGS_SECTION = 'attentionForge';
export const RULE_SETTING_PREFIX = 'rules.';

/** A rule setting: the rule's own severity, a fixed one, or off. */
export type RuleLevel = 'default' | 'error' | 'warning' | 'information' | 'hint' | 'off';
export const RULE_LEVELS: readonly RuleLevel[] = ['default', 'error', 'warning', 'information', 'hint', 'off'];

/** The severity shown in the editor; undefined when the rule is switched off. */
export type ShownSeverity = 'error' | 'warning' | 'information' | 'hint';

/** `attentionForge.rules.<name>`, the full key of a rule's setting. */
export function ruleSettingKey(rule: string): string {
  return `${SETTINGS_SECTION}.${RULE_SETTING_PREFIX}${rule}`;
}

/** Reads a setting value defensively: anything unknown means the rule's default. */
export function parseRuleLevel(v: unknown): RuleLevel {
  return typeof v === 'string' && (RULE_LEVELS as readonly string[]).includes(v) ? (v as RuleLevel) : 'default';
}

export function shownSeverity(d: Pick<Diagnostic, 'severity'>, level: RuleLevel): ShownSeverity | undefined {
  if (level === 'off') return undefined;
  if (level === 'default') return d.severity;
  return level;
}

/** Every setting the extension contributes, generated into package.json by scripts/gen.ts. */
export function configurationContribution(rules: readonly Pick<Rule, 'name' | 'summary' | 'defaultSeverity'>[]): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    [`${SETTINGS_SECTION}.shapeHints.enabled`]: {
      type: 'boolean',
      default: true,
      description: 'Show the inferred shape of tensors assigned in `forward` as inlay hints (Attention Forge: Toggle Shape Hints).',
    },
    [`${SETTINGS_SECTION}.diagnostics.debounceMs`]: {
      type: 'number',
      default: 300,
      minimum: 0,
      maximum: 5000,
      description: 'How long to wait after the last edit before analysing a Python file again.',
    },
    [`${SETTINGS_SECTION}.python.interpreter`]: {
      type: 'string',
      default: '',
      scope: 'machine-overridable',
      markdownDescription: "The Python (with torch) that **Compare with PyTorch** runs, on your explicit request, in trusted workspaces only. Empty: the Python extension's interpreter for the file, else `python3`.",
    },
  };
  for (const r of rules) {
    properties[ruleSettingKey(r.name)] = {
      type: 'string',
      enum: [...RULE_LEVELS],
      default: 'default',
      scope: 'resource',
      markdownDescription: `Severity of [\`${r.name}\`](${ruleDocsUri(r.name)}): ${r.summary}. \`default\` uses the rule's own severity (${r.defaultSeverity === 'error' ? 'error when the sizes are literal, warning when symbolic' : 'warning'}); \`off\` disables it.`,
    };
  }
  return { title: 'Attention Forge', properties };
}

// ------------------------------------------------------------------ rule docs

export const DOCS_SCHEME = 'attention-forge-docs';

/**
 * Where `diagnostic.code` links to: a read-only page the extension renders from the rule
 * registry. `resource` is the file the diagnostic is in: the page states the severity under
 * that file's settings (rule settings are resource-scoped).
 */
export function ruleDocsUri(rule: string, resource?: string): string {
  return `${DOCS_SCHEME}:/rules/${rule}.md${resource ? `?${new URLSearchParams({ resource }).toString()}` : ''}`;
}

/** The rule name in a docs URI path (`/rules/<name>.md`), if it is one. */
export function ruleFromDocsPath(p: string): string | undefined {
  return /^\/rules\/([a-z0-9-]+)\.md$/.exec(p)?.[1];
}

/** The file a docs URI's query names (see `ruleDocsUri`), if any. */
export function resourceFromDocsQuery(query: string): string | undefined {
  return new URLSearchParams(query).get('resource') ?? undefined;
}

/** The rule's own severity in words: error rules report symbolic findings as warnings. */
export function defaultSeverityText(r: Pick<Rule, 'defaultSeverity'>): string {
  return r.defaultSeverity === 'error' ? '**error** when the sizes involved are literal numbers, **warning** when one is symbolic' : '**warning**';
}

/**
 * The severity the editor gives the rule's findings under a setting (`shownSeverity` in words),
 * as the rule docs page states it.
 */
export function severitySentence(r: Pick<Rule, 'name' | 'defaultSeverity'>, level: RuleLevel): string {
  const setting = `\`${ruleSettingKey(r.name)}\``;
  if (level === 'off') return `Severity in the editor: **off**, set by ${setting}; the editor does not report this rule (its own severity: ${defaultSeverityText(r)}).`;
  if (level === 'default') return `Severity in the editor: ${defaultSeverityText(r)} (the rule's own severity; ${setting} can change it or turn the rule off).`;
  return `Severity in the editor: **${level}**, set by ${setting} (the rule's own severity: ${defaultSeverityText(r)}).`;
}

/** The rule's documentation page, stating the severity the editor uses under `level`. */
export function ruleDocsMarkdown(r: Pick<Rule, 'name' | 'summary' | 'defaultSeverity' | 'docs'>, level: RuleLevel = 'default'): string {
  return [
    `# ${r.name}`,
    '',
    `${r.summary}.`,
    '',
    severitySentence(r, level),
    '',
    '## What it does',
    '',
    r.docs.what,
    '',
    '## Why is this bad?',
    '',
    r.docs.why,
    '',
    '## Example',
    '',
    '```python',
    r.docs.example,
    '```',
    '',
    '## Use instead',
    '',
    '```python',
    r.docs.useInstead,
    '```',
    '',
    '## Fix safety',
    '',
    r.docs.fixSafety,
    '',
    '## Suppress',
    '',
    '```python',
    `...  # attention-forge: ignore[${r.name}]`,
    '```',
    '',
  ].join('\n');
}

// ------------------------------------------------------------------ code actions

/**
 * Whether a fix may be applied without review: only when the rule marks it `safe: true`, so an
 * unmarked fix is never preferred.
 */
export function isSafeFix(f: Fix): boolean {
  return f.safe === true;
}

export interface PlannedAction {
  title: string;
  /** Index into the diagnostics the plan was made for. */
  diagnostic: number;
  edits: TextEdit[];
  preferred: boolean;
  /** The fix's safety (see `isSafeFix`); the title never carries it. Suppressions are safe. */
  safe: boolean;
  kind: 'quickfix';
}

/**
 * The quick fixes for the diagnostics at a position: every fix of every diagnostic, then one
 * "ignore" action per rule. At most one action is preferred — the first safe fix — and an
 * unsafe fix is never preferred, so "auto fix" never applies something that needs review.
 * Titles are the fixes' own (what they change); safety travels as `safe` and `preferred`.
 */
export function planCodeActions(diags: readonly Diagnostic[], lines: readonly string[]): PlannedAction[] {
  const out: PlannedAction[] = [];
  let preferredTaken = false;
  diags.forEach((d, i) => {
    for (const f of d.fixes) {
      const safe = isSafeFix(f);
      const preferred = safe && !preferredTaken;
      if (preferred) preferredTaken = true;
      out.push({ title: f.title, diagnostic: i, edits: f.edits, preferred, safe, kind: 'quickfix' });
    }
  });
  const seen = new Set<string>();
  diags.forEach((d, i) => {
    if (seen.has(d.rule)) return;
    seen.add(d.rule);
    const edit = suppressionEdit(lines, d.range.line, d.rule);
    if (edit) out.push({ title: `Ignore ${d.rule} on this line`, diagnostic: i, edits: [edit], preferred: false, safe: true, kind: 'quickfix' });
  });
  return out;
}

/** The edit adding `# attention-forge: ignore[rule]` to a line (or the rule to an existing one). */
export function suppressionEdit(lines: readonly string[], line: number, rule: string): TextEdit | undefined {
  const text = lines[line];
  if (text === undefined) return undefined;
  const m = /#\s*attention-forge:\s*ignore(\[([^\]]*)\])?/.exec(text);
  if (m) {
    if (m[1] === undefined) return undefined; // Already ignores every rule.
    const names = m[2].split(',').map((s) => s.trim()).filter(Boolean);
    if (names.includes(rule)) return undefined;
    const start = m.index + m[0].length - m[1].length;
    return { range: { line, column: start, endLine: line, endColumn: start + m[1].length }, newText: `[${[...names, rule].join(', ')}]` };
  }
  const end = text.replace(/\s+$/, '').length;
  return { range: { line, column: end, endLine: line, endColumn: text.length }, newText: `  # attention-forge: ignore[${rule}]` };
}

// ------------------------------------------------------------------ shapes: hovers and inlay hints

/** The 0-based line ranges [start, end] of every `def forward` body, found by indentation. */
export function forwardRanges(lines: readonly string[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)(?:async\s+)?def\s+forward\s*\(/.exec(lines[i]);
    if (!m) continue;
    const indent = m[1].length;
    let end = i;
    for (let j = i + 1; j < lines.length; j++) {
      const l = lines[j];
      if (l.trim() === '' || /^\s*#/.test(l)) continue;
      if (l.length - l.trimStart().length <= indent) break;
      end = j;
    }
    out.push([i, end]);
  }
  return out;
}

export interface ShapeHint {
  line: number;
  /** After the last non-blank character of the assignment's line (before a trailing comment). */
  character: number;
  label: string;
}

/**
 * One hint per recorded assignment inside a `forward`, at the end of its statement line,
 * skipping shapes that are entirely unknown. Several names bound on one line share a hint.
 */
export function shapeHints(shapes: readonly ShapeRecord[], lines: readonly string[]): ShapeHint[] {
  const ranges = forwardRanges(lines);
  const inForward = (l: number) => ranges.some(([a, b]) => l > a && l <= b);
  const byLine = new Map<number, ShapeRecord[]>();
  for (const s of shapes) {
    if (!inForward(s.line) || s.shape === '?' || s.shape === '()') continue;
    byLine.set(s.line, [...(byLine.get(s.line) ?? []), s]);
  }
  const out: ShapeHint[] = [];
  for (const [line, recs] of [...byLine.entries()].sort((a, b) => a[0] - b[0])) {
    const text = lines[line] ?? '';
    const code = stripComment(text).replace(/\s+$/, '');
    // A statement continued on the next lines keeps its hint on the first line's end, which
    // is still next to the name; the evaluator records the target's line.
    const label = recs.length === 1 ? `: ${recs[0].shape}` : ` ${recs.map((r) => `${r.name}: ${r.shape}`).join(', ')}`;
    out.push({ line, character: code.length, label });
  }
  return out;
}

function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

/** The identifier (dotted for `self.x`) under a character of a line, with its span. */
export function nameAt(line: string, character: number): { name: string; start: number; end: number } | undefined {
  const re = /(?:self\.)?[A-Za-z_]\w*/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    const start = m.index;
    const end = start + m[0].length;
    if (character >= start && character <= end) {
      // On `self.` itself, or on `x` of `self.x`: both mean the attribute.
      return { name: m[0], start, end };
    }
  }
  return undefined;
}

/**
 * The shape of the name under the cursor: its assignment on this line, or else the latest
 * assignment of that name above it (within the same `forward` when the cursor is in one).
 */
export function shapeAt(shapes: readonly ShapeRecord[], lines: readonly string[], line: number, character: number): { name: string; shape: string; start: number; end: number } | undefined {
  const at = nameAt(lines[line] ?? '', character);
  if (!at) return undefined;
  const fwd = forwardRanges(lines).find(([a, b]) => line >= a && line <= b);
  const candidates = shapes.filter((s) => s.name === at.name && s.line <= line && s.shape !== '?' && (!fwd || (s.line >= fwd[0] && s.line <= fwd[1])));
  if (candidates.length === 0) return undefined;
  const best = candidates.reduce((a, b) => (b.line > a.line || (b.line === a.line && b.column > a.column) ? b : a));
  return { name: at.name, shape: best.shape, start: at.start, end: at.end };
}
