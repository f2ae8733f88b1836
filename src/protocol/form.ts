/**
 * Messages between the extension and the "New Attention Block" form webview, as discriminated
 * unions on `type`, with validators that every receiver runs before trusting a message: a
 * webview is a separate, untrusted context, and a malformed message is dropped rather than
 * acted on. This module holds plain data only (it is imported by both sides, so it imports
 * neither `vscode` nor the DOM nor the catalog); the extension fills it from the catalog. The
 * one helper here, `filterBlocks`, is the search both sides agree on.
 */

/** Target languages of generated code. */
export type Language = 'pytorch' | 'typescript';
export const LANGUAGES: readonly Language[] = ['pytorch', 'typescript'];

/** One parameter field of the form, derived from a catalog `ParamDef`. */
export interface ParamField {
  name: string;
  type: 'int' | 'float' | 'bool' | 'enum';
  /** The default as the text a field shows (`None` for null). */
  defaultText: string;
  doc: string;
  min?: number;
  max?: number;
  choices?: string[];
  nullable: boolean;
  /** A main parameter (shown first; a snippet placeholder). */
  main: boolean;
}

/** What the form lists about one block. */
export interface BlockEntry {
  id: string;
  title: string;
  /** One line, shown under the title in the list. */
  summary: string;
  layout: string;
  params: ParamField[];
}

/** Whether a language can be generated in this build, and why not. */
export interface LanguageAvailability {
  language: Language;
  available: boolean;
  /** Shown next to a disabled toggle. */
  note?: string;
}

/** A validation message for one field (or for the block as a whole when `param` names none). */
export interface FieldIssue {
  param: string;
  message: string;
}

/** The user's current choices; values are the raw texts of the fields. */
export interface FormChoice {
  blockId: string;
  values: Record<string, string>;
  language: Language;
}

/**
 * extension → webview: the catalog and the languages, sent once the webview says `ready`.
 */
export interface InitMessage {
  type: 'init';
  blocks: BlockEntry[];
  languages: LanguageAvailability[];
  /** A block to select first (e.g. from a command argument). */
  initialBlockId?: string;
}

/** extension → webview: the result of evaluating a `FormChoice` (the reply to `update`). */
export interface PreviewMessage {
  type: 'preview';
  /** Echoes `UpdateMessage.seq`, so the webview can drop replies to older edits. */
  seq: number;
  code: string | null;
  issues: FieldIssue[];
  /** Output shapes at the block's default dims, e.g. `output: (2, 64, 16)`. */
  shapes: string[];
}

/** extension → webview: the outcome of an action, shown as a status line. */
export interface ActionResultMessage {
  type: 'actionResult';
  action: ActionKind;
  ok: boolean;
  message: string;
}

export type ToWebview = InitMessage | PreviewMessage | ActionResultMessage;

/** webview → extension: the webview's script has loaded and listens. */
export interface ReadyMessage {
  type: 'ready';
}

/** webview → extension: the choice changed; reply with `preview`. */
export interface UpdateMessage {
  type: 'update';
  seq: number;
  choice: FormChoice;
}

/** What the form's buttons do with the choice: insert, new file, copy the code, or run it in the preview panel. */
export type ActionKind = 'insert' | 'newFile' | 'copy' | 'preview';
export const ACTIONS: readonly ActionKind[] = ['insert', 'newFile', 'copy', 'preview'];

/** webview → extension: do something with the generated code. */
export interface ActionMessage {
  type: 'action';
  action: ActionKind;
  choice: FormChoice;
}

export type FromWebview = ReadyMessage | UpdateMessage | ActionMessage;

/**
 * Blocks whose id, title or summary contain every word of the filter (case-insensitive). Shared
 * by the form's search box and the tests; it is here because the webview may import only the
 * protocol.
 */
export function filterBlocks<T extends { id: string; title: string; summary: string }>(blocks: readonly T[], filter: string): T[] {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  return blocks.filter((b) => {
    const hay = `${b.id} ${b.title} ${b.summary}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

// ------------------------------------------------------------------ validation on receipt

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isStringRecord(x: unknown): x is Record<string, string> {
  return isObj(x) && Object.values(x).every((v) => typeof v === 'string');
}

function isLanguage(x: unknown): x is Language {
  return typeof x === 'string' && (LANGUAGES as readonly string[]).includes(x);
}

function isChoice(x: unknown): x is FormChoice {
  return isObj(x) && typeof x.blockId === 'string' && x.blockId.length < 200 && isStringRecord(x.values) && isLanguage(x.language);
}

/** The message when `x` is a well-formed webview → extension message, else undefined. */
export function parseFromWebview(x: unknown): FromWebview | undefined {
  if (!isObj(x)) return undefined;
  switch (x.type) {
    case 'ready':
      return { type: 'ready' };
    case 'update':
      return Number.isSafeInteger(x.seq) && isChoice(x.choice) ? { type: 'update', seq: x.seq as number, choice: x.choice } : undefined;
    case 'action':
      return typeof x.action === 'string' && (ACTIONS as readonly string[]).includes(x.action) && isChoice(x.choice)
        ? { type: 'action', action: x.action as ActionKind, choice: x.choice }
        : undefined;
    default:
      return undefined;
  }
}

function isField(x: unknown): x is ParamField {
  return isObj(x) && typeof x.name === 'string' && ['int', 'float', 'bool', 'enum'].includes(x.type as string) && typeof x.defaultText === 'string' && typeof x.doc === 'string';
}

function isEntry(x: unknown): x is BlockEntry {
  return isObj(x) && typeof x.id === 'string' && typeof x.title === 'string' && typeof x.summary === 'string' && Array.isArray(x.params) && x.params.every(isField);
}

function isIssue(x: unknown): x is FieldIssue {
  return isObj(x) && typeof x.param === 'string' && typeof x.message === 'string';
}

/** The message when `x` is a well-formed extension → webview message, else undefined. */
export function parseToWebview(x: unknown): ToWebview | undefined {
  if (!isObj(x)) return undefined;
  switch (x.type) {
    case 'init':
      return Array.isArray(x.blocks) && x.blocks.every(isEntry) && Array.isArray(x.languages)
        ? (x as unknown as InitMessage)
        : undefined;
    case 'preview':
      return Number.isSafeInteger(x.seq) && (x.code === null || typeof x.code === 'string') && Array.isArray(x.issues) && x.issues.every(isIssue) && Array.isArray(x.shapes)
        ? (x as unknown as PreviewMessage)
        : undefined;
    case 'actionResult':
      return typeof x.action === 'string' && typeof x.ok === 'boolean' && typeof x.message === 'string' ? (x as unknown as ActionResultMessage) : undefined;
    default:
      return undefined;
  }
}

/** What the webview keeps across reloads with `getState`/`setState`. */
export interface FormState {
  choice?: FormChoice;
  filter?: string;
}

export function parseFormState(x: unknown): FormState {
  if (!isObj(x)) return {};
  return { ...(isChoice(x.choice) ? { choice: x.choice } : {}), ...(typeof x.filter === 'string' ? { filter: x.filter } : {}) };
}
