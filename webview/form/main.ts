/**
 * The "New Attention Block" form, in the webview. It renders what the extension sends (the
 * catalog as `BlockEntry`s, the languages, and for every edit the generated code with the
 * catalog's validation messages) and reports the user's choices back; it validates nothing
 * itself beyond the message shapes, so the catalog stays the only judge of a value. Controls
 * are `@vscode-elements/elements` web components, themed by the editor's `--vscode-*`
 * variables. The choice and the search text survive a reload through `getState`/`setState`.
 * The page has three regions — the catalog list, the parameters, the generated code
 * (highlighted by `highlight.ts`) — which form.css stacks in a narrow column and sets side by
 * side in a wide one; no region ever makes the page scroll sideways.
 *
 * Imports: only src/protocol (the boundaries test enforces it) and the UI components.
 */

import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-form-helper/index.js';
import '@vscode-elements/elements/dist/vscode-divider/index.js';
import { filterBlocks, parseFormState, parseToWebview } from '../../src/protocol/form';
import { highlight } from './highlight';
import type { ActionKind, BlockEntry, FormChoice, FormState, FromWebview, InitMessage, Language, ParamField, PreviewMessage } from '../../src/protocol/form';

interface VsCodeApi {
  postMessage(m: FromWebview): void;
  getState(): unknown;
  setState(s: FormState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

/** A value-holding vscode-elements control (textfield, single-select, radio-group). */
interface ValueElement extends HTMLElement {
  value: string;
  disabled?: boolean;
  invalid?: boolean;
}

let init: InitMessage | undefined;
const state: FormState = parseFormState(vscode.getState());
let seq = 0;
let lastCode: string | null = null;
let updateTimer: ReturnType<typeof setTimeout> | undefined;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string>, ...children: (Node | string)[]): HTMLElementTagNameMap[K];
function el(tag: string, attrs?: Record<string, string>, ...children: (Node | string)[]): HTMLElement;
function el(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

function post(m: FromWebview): void {
  vscode.postMessage(m);
}

function save(): void {
  vscode.setState(state);
}

function currentBlock(): BlockEntry | undefined {
  return init?.blocks.find((b) => b.id === state.choice?.blockId);
}

// ------------------------------------------------------------------ rendering

function render(): void {
  if (!init) return;
  const app = document.getElementById('app')!;
  app.replaceChildren();

  const search = el('vscode-textfield', { id: 'search', placeholder: 'Search blocks (e.g. channel, causal, window)', 'aria-label': 'Search blocks' }) as ValueElement;
  search.value = state.filter ?? '';
  const list = el('ul', { id: 'blocks', role: 'listbox', 'aria-label': 'Attention blocks' });
  search.addEventListener('input', () => {
    state.filter = search.value;
    save();
    renderList(list);
  });
  const side = el('section', { class: 'side', 'aria-label': 'Catalog' }, search, list);
  const main = el('section', { class: 'main', id: 'main', 'aria-label': 'Parameters' });
  const output = el('section', { class: 'output', id: 'output', 'aria-label': 'Generated code' });
  app.append(side, main, output);
  renderList(list);
  renderMain(main, output);
}

function renderList(list: HTMLElement): void {
  if (!init) return;
  const shown = filterBlocks(init.blocks, state.filter ?? '');
  list.replaceChildren(
    ...shown.map((b) => {
      const selected = b.id === state.choice?.blockId;
      const item = el('li', { class: `block-item${selected ? ' selected' : ''}`, role: 'option', 'aria-selected': String(selected), 'data-id': b.id, tabindex: '0', title: b.summary },
        el('div', { class: 'block-title' }, b.title),
        el('div', { class: 'block-summary' }, b.summary),
      );
      const choose = () => selectBlock(b.id);
      item.addEventListener('click', choose);
      item.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          choose();
        }
      });
      return item;
    }),
  );
  if (shown.length === 0) list.append(el('li', { class: 'empty' }, 'No block matches.'));
  // The chosen block is in view in the list's own box (the list is shortened in a narrow
  // column); the page itself is not scrolled.
  const selected = list.querySelector<HTMLElement>('.block-item.selected');
  if (selected && (selected.offsetTop < list.scrollTop || selected.offsetTop + selected.offsetHeight > list.scrollTop + list.clientHeight)) {
    list.scrollTop = selected.offsetTop;
  }
}

function selectBlock(id: string): void {
  const b = init?.blocks.find((x) => x.id === id);
  if (!b) return;
  const values: Record<string, string> = {};
  for (const f of b.params) values[f.name] = f.defaultText;
  state.choice = { blockId: id, values, language: state.choice?.language ?? 'pytorch' };
  save();
  render();
  requestUpdate(0);
}

function languageAvailable(l: Language): boolean {
  return init?.languages.find((x) => x.language === l)?.available ?? false;
}

function renderMain(main: HTMLElement, output: HTMLElement): void {
  const b = currentBlock();
  if (!b || !state.choice) {
    main.append(el('p', { class: 'hint' }, 'Pick a block on the left.'));
    return;
  }
  const choice = state.choice;
  main.append(el('h2', { id: 'block-title' }, b.title), el('p', { class: 'summary' }, `${b.summary} Input layout ${b.layout}.`));

  const fields = el('div', { class: 'fields', id: 'fields' });
  for (const f of b.params) fields.append(field(f, choice));
  main.append(fields, el('div', { id: 'block-issues', class: 'issues', role: 'alert' }));

  // Language toggle: a language without a generator is shown disabled with the reason.
  const radios = el('vscode-radio-group', { id: 'language', variant: 'horizontal' });
  for (const l of init!.languages) {
    const r = el('vscode-radio', { name: 'language', value: l.language, label: l.language === 'pytorch' ? 'PyTorch' : 'TypeScript', id: `lang-${l.language}` }) as ValueElement & { checked: boolean };
    r.append(l.language === 'pytorch' ? 'PyTorch' : 'TypeScript');
    r.checked = choice.language === l.language;
    if (!l.available) r.setAttribute('disabled', '');
    radios.append(r);
  }
  radios.addEventListener('change', (e) => {
    const v = (e.target as ValueElement).value as Language;
    if (!languageAvailable(v)) return;
    choice.language = v;
    save();
    requestUpdate(0);
  });
  const notes = init!.languages.filter((l) => !l.available && l.note).map((l) => el('div', { class: 'note', id: `note-${l.language}` }, l.note!));
  main.append(el('div', { class: 'toolbar' }, radios), ...notes);

  const actions = el('div', { class: 'actions' });
  const buttons: [ActionKind, string, boolean][] = [
    ['insert', 'Insert at cursor', false],
    ['newFile', 'New file', true],
    ['copy', 'Copy', true],
    ['preview', 'Preview', true],
  ];
  for (const [action, label, secondary] of buttons) {
    const btn = el('vscode-button', { id: `action-${action}`, ...(secondary ? { secondary: '' } : {}) }, label);
    btn.addEventListener('click', () => {
      if (btn.hasAttribute('disabled')) return;
      post({ type: 'action', action, choice: structuredClone(choice) });
    });
    actions.append(btn);
  }
  main.append(actions, el('div', { id: 'status', class: 'status', role: 'status' }));
  output.append(el('div', { id: 'shapes', class: 'shapes' }), el('pre', { id: 'code', class: 'code', tabindex: '0', 'aria-label': 'Generated code' }));
}

/** Shows generated code as highlighted spans (text nodes only: the code is never parsed as HTML). */
function showCode(code: HTMLElement, text: string, language: Language): void {
  code.replaceChildren(...highlight(text, language).map((t) => (t.kind === 'text' ? t.text : el('span', { class: `tok-${t.kind}` }, t.text))));
}

function field(f: ParamField, choice: FormChoice): HTMLElement {
  const id = `field-${f.name}`;
  const bounds = [f.min !== undefined ? `≥ ${f.min}` : '', f.max !== undefined ? `≤ ${f.max}` : '', f.nullable ? 'or None' : ''].filter(Boolean).join(', ');
  const label = el('label', { for: id, class: 'field-label' }, f.name, el('span', { class: 'type' }, ` ${f.type}${bounds ? ` ${bounds}` : ''}`));
  let control: ValueElement;
  const text = choice.values[f.name] ?? f.defaultText;
  if (f.type === 'enum' || f.type === 'bool') {
    control = el('vscode-single-select', { id, 'aria-label': f.name }) as ValueElement;
    const options = f.type === 'bool' ? ['true', 'false'] : [...(f.choices ?? [])];
    if (f.nullable) options.push('None');
    for (const o of options) {
      const opt = el('vscode-option', { value: o }, o);
      if (o === text) opt.setAttribute('selected', '');
      control.append(opt);
    }
  } else {
    control = el('vscode-textfield', { id, 'aria-label': f.name, placeholder: f.defaultText }) as ValueElement;
    control.value = text;
  }
  const onEdit = () => {
    choice.values[f.name] = control.value;
    save();
    requestUpdate(150);
  };
  control.addEventListener('input', onEdit);
  control.addEventListener('change', onEdit);
  const help = el('div', { class: 'doc' }, f.doc);
  const msg = el('div', { class: 'message', id: `msg-${f.name}`, role: 'alert' });
  return el('div', { class: `field${f.main ? ' main' : ''}`, 'data-param': f.name }, label, control, msg, help);
}

function requestUpdate(delay: number): void {
  if (updateTimer) clearTimeout(updateTimer);
  updateTimer = setTimeout(() => {
    if (!state.choice) return;
    post({ type: 'update', seq: ++seq, choice: structuredClone(state.choice) });
  }, delay);
}

function showPreview(m: PreviewMessage): void {
  // Replies to older edits are dropped: only the newest request's answer is shown.
  if (m.seq !== seq) return;
  const b = currentBlock();
  if (!b) return;
  lastCode = m.code;
  for (const f of b.params) {
    const issue = m.issues.filter((i) => i.param === f.name).map((i) => i.message).join('; ');
    const msg = document.getElementById(`msg-${f.name}`);
    if (msg) msg.textContent = issue;
    const control = document.getElementById(`field-${f.name}`) as ValueElement | null;
    if (control) control.invalid = issue !== '';
  }
  const other = m.issues.filter((i) => !b.params.some((f) => f.name === i.param));
  const blockIssues = document.getElementById('block-issues');
  if (blockIssues) blockIssues.textContent = other.map((i) => i.message).join('\n');
  const code = document.getElementById('code');
  if (code) {
    showCode(code, m.code ?? '', state.choice?.language ?? 'pytorch');
    code.classList.toggle('stale', m.code === null);
  }
  const shapes = document.getElementById('shapes');
  if (shapes) shapes.textContent = m.shapes.length ? `Output at the default input sizes: ${m.shapes.join(', ')}` : '';
  for (const a of ['insert', 'newFile', 'copy']) {
    const btn = document.getElementById(`action-${a}`);
    if (!btn) continue;
    if (lastCode === null) btn.setAttribute('disabled', '');
    else btn.removeAttribute('disabled');
  }
}

window.addEventListener('message', (e: MessageEvent) => {
  const m = parseToWebview(e.data);
  if (!m) return;
  switch (m.type) {
    case 'init': {
      init = m;
      const wanted = m.initialBlockId ?? state.choice?.blockId;
      const known = m.blocks.find((b) => b.id === wanted);
      if (m.initialBlockId && known && state.choice?.blockId !== known.id) {
        state.choice = undefined;
      }
      if (state.choice && !languageAvailable(state.choice.language)) state.choice.language = 'pytorch';
      if (!state.choice || !known) {
        render();
        selectBlock((known ?? m.blocks[0]).id);
      } else {
        render();
        requestUpdate(0);
      }
      return;
    }
    case 'preview':
      showPreview(m);
      return;
    case 'actionResult': {
      const s = document.getElementById('status');
      if (s) {
        s.textContent = m.message;
        s.className = `status ${m.ok ? 'ok' : 'error'}`;
      }
      return;
    }
  }
});

post({ type: 'ready' });
