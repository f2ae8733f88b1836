/**
 * The block preview panel (issue 5): one webview panel (revealed and re-targeted rather than
 * duplicated, restored after a reload by a serializer) in which the webview runs a catalog block
 * on the bundled runtime and draws its layers and attention maps. The webview's script and styles
 * come from the built webview folder only (`dist/webview`, the panel's single local resource
 * root), under a strict CSP: `default-src 'none'`, scripts only with this page's nonce, no eval,
 * no remote resources. Messages are the typed unions of `src/protocol/preview.ts`, validated on
 * receipt.
 *
 * The extension's part is the catalog (what to build, shapes at the user's dims; loaded on first
 * use from `preview-model.ts`, so activation does not pay for it) and the file system (a
 * `.safetensors` file or an image the user picks is read here and sent as bytes). It runs no
 * block itself; a user module it runs again through the rerun the *Preview module* command
 * gave it, with a checkpoint and/or the page's image tensor (validated on receipt).
 */

import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import type { Params } from '../blocks/types';
import { parsePreviewFromWebview } from '../protocol/preview';
import type { ModuleCompare, PreviewInitMessage, PreviewModuleMessage, PreviewToWebview } from '../protocol/preview';
import { CheckpointError, readStateDict, type Tensor } from '../runtime/index';
import { PREVIEW_VIEW_TYPE } from './command-ids';
import { previewHtml } from './preview-html';

/** The catalog-backed decisions, loaded on first use. */
function model(): Promise<typeof import('./preview-model')> {
  return import('./preview-model');
}

/** Weights files above this are refused before reading (the webview holds them in memory twice). */
const MAX_WEIGHTS_BYTES = 1 << 30;

/** Image files above this are refused before reading (the page decodes them whole). */
const MAX_IMAGE_BYTES = 64 << 20;

/** A checkpoint's tensors, as the rerun takes them. */
export interface RerunWeights {
  file: string;
  tensors: ReadonlyMap<string, Tensor>;
}

/** The module's first input, given (the page's image, resized and normalised). */
export interface RerunInput {
  from: string;
  shape: readonly number[];
  data: Float32Array;
}

/** Runs the module shown again with a checkpoint's tensors and/or a given first input (the rest as before). */
export type ModuleRerun = (o: { weights?: RerunWeights; input?: RerunInput }) => Promise<PreviewModuleMessage | undefined>;

/** Runs the module shown in PyTorch, with what it was last run with, and compares it layer by layer (undefined: cancelled or refused). */
export type ModuleComparer = (o: { weights?: RerunWeights; input?: RerunInput }) => Promise<ModuleCompare | undefined>;

export class PreviewPanels implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private blockId = 'multihead-attention';
  private given: Params = {};
  /** The user module the panel shows instead of a block (issue 14), until a block is picked. */
  private module: PreviewModuleMessage | undefined;
  /** Runs the module shown again with a checkpoint's state_dict (set by the command that ran it). */
  private rerun: ModuleRerun | undefined;
  /** What the module shown was last run with, kept so that loading weights keeps the image and the other way round. */
  private rerunWith: { weights?: RerunWeights; input?: RerunInput } = {};
  /** Compares the module shown with PyTorch (set by the command that ran it). */
  private comparer: ModuleComparer | undefined;
  /** An image a programmatic caller gave for the module's first input, sent as a picked one is once the page shows the module. */
  private pendingImage: Extract<PreviewToWebview, { type: 'image' }> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** The last run the webview reported (integration tests read it through the extension's API). */
  lastReport: { backend: string; adapter: string; reason: string; forwardMs: number; error?: string } | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(PREVIEW_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
          const id = (state as { blockId?: unknown } | undefined)?.blockId;
          if (typeof id === 'string') this.blockId = id;
          this.adopt(panel);
        },
      }),
    );
  }

  private get root(): vscode.Uri {
    return vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
  }

  /** The block and values the panel was last asked to show (integration tests read it). */
  get target(): { blockId: string; given: Params } | undefined {
    return this.panel ? { blockId: this.blockId, given: this.given } : undefined;
  }

  /** The user module the panel was last asked to show (integration tests read it). */
  get moduleShown(): PreviewModuleMessage | undefined {
    return this.panel ? this.module : undefined;
  }

  /** The first input the page gave the module shown (its image, resized and normalised), if any (integration tests read it). */
  get moduleInput(): RerunInput | undefined {
    return this.panel ? this.rerunWith.input : undefined;
  }

  /**
   * Shows a user module's run (the extension host ran it: `module-preview.ts`) in the panel,
   * opening it if needed; a fresh panel receives it when its script says `ready`. An `image`
   * (a PNG or JPEG's bytes) follows it as *Use an image…* sends a picked one: the page decodes,
   * resizes and normalises it and asks for the run on it.
   */
  showModule(m: PreviewModuleMessage, rerun?: ModuleRerun, compare?: ModuleComparer, weights?: { file: string; tensors: ReadonlyMap<string, Tensor> }, image?: { fileName: string; bytes: Uint8Array }): vscode.WebviewPanel {
    this.module = m;
    this.rerun = rerun;
    this.comparer = compare;
    this.rerunWith = weights ? { weights } : {};
    this.pendingImage = image ? { type: 'image', ...image } : undefined;
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside);
      this.panel.title = `Preview: ${m.className}`;
      void this.post(m);
      this.sendPendingImage();
      return this.panel;
    }
    return this.open();
  }

  private sendPendingImage(): void {
    const image = this.pendingImage;
    this.pendingImage = undefined;
    if (image) void this.post(image);
  }

  /** Opens the preview on `blockId` with the given parameter values (defaults for the rest), or reveals and re-targets it. */
  show(blockId: string, given: Params = {}): vscode.WebviewPanel {
    this.blockId = blockId;
    this.given = given;
    this.module = undefined;
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside);
      void this.sendInit();
      return this.panel;
    }
    return this.open();
  }

  private open(): vscode.WebviewPanel {
    const panel = vscode.window.createWebviewPanel(PREVIEW_VIEW_TYPE, 'Attention Preview', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [this.root],
    });
    this.adopt(panel);
    return panel;
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.title = 'Attention Preview';
    panel.webview.options = { enableScripts: true, localResourceRoots: [this.root] };
    panel.webview.html = this.html(panel.webview);
    const subs: vscode.Disposable[] = [
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      panel.onDidDispose(() => {
        if (this.panel === panel) this.panel = undefined;
        for (const s of subs) s.dispose();
      }),
    ];
  }

  private async initMessage(): Promise<PreviewInitMessage> {
    const m = await model();
    const r = m.previewBlock(this.blockId, this.given);
    return { type: 'init', blocks: m.previewBlockList(), ...('block' in r ? { block: r.block } : { block: null, error: r.error }) };
  }

  private async sendInit(): Promise<void> {
    const init = await this.initMessage();
    if (init.block && this.panel) this.panel.title = `Preview: ${init.block.title}`;
    await this.post(init);
  }

  private post(m: PreviewToWebview): Thenable<boolean> {
    return this.panel?.webview.postMessage(m) ?? Promise.resolve(false);
  }

  private async receive(raw: unknown): Promise<void> {
    const m = parsePreviewFromWebview(raw);
    if (!m) {
      this.log.warn(`dropped a malformed message from the preview webview: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    switch (m.type) {
      case 'ready':
        // A restored panel's block came with its state (the serializer); a fresh one shows the block it was opened for.
        if (this.module) {
          if (this.panel) this.panel.title = `Preview: ${this.module.className}`;
          await this.post(this.module);
          this.sendPendingImage();
          return;
        }
        await this.sendInit();
        return;
      case 'pickBlock':
        this.module = undefined;
        this.blockId = m.blockId;
        this.given = {};
        await this.sendInit();
        return;
      case 'resolve': {
        const given = m.blockId === this.blockId ? this.given : {};
        await this.post((await model()).resolvePreview(m.blockId, given, m.seq, m.dims));
        return;
      }
      case 'loadWeights':
        await this.post(await this.pickWeights());
        return;
      case 'loadModuleWeights': {
        if (!this.module || !this.rerun) return;
        const picked = await this.pickCheckpoint();
        if (!picked) return;
        const next = await this.rerun({ ...this.rerunWith, weights: picked });
        if (!next) return;
        this.rerunWith = { ...this.rerunWith, weights: picked };
        if (next.error) this.log.warn(`preview of ${next.className} with ${picked.file} stopped: ${next.error}`);
        else this.log.info(`preview of ${next.className} with ${picked.file}: ${next.weights?.missing.length ?? 0} keys missing, ${next.weights?.unexpected.length ?? 0} unexpected`);
        this.module = next;
        await this.post(next);
        return;
      }
      case 'loadImage': {
        if (!this.module) return;
        const image = await this.pickImage();
        if (image) await this.post(image);
        return;
      }
      case 'moduleInput': {
        if (!this.module || !this.rerun) return;
        const input = { from: m.from, shape: m.shape, data: m.data };
        const next = await this.rerun({ ...this.rerunWith, input });
        if (!next) return;
        this.rerunWith = { ...this.rerunWith, input };
        if (next.error) this.log.warn(`preview of ${next.className} on ${m.from} stopped: ${next.error}`);
        else this.log.info(`preview of ${next.className} on ${m.from} (${m.shape.join('×')})`);
        this.module = next;
        await this.post(next);
        return;
      }
      case 'compareModule': {
        if (!this.module || !this.comparer) return;
        const shown = this.module;
        const compare = await this.comparer(this.rerunWith);
        if (!compare || this.module !== shown) return;
        if (compare.error) this.log.warn(`Compare with PyTorch (${shown.className}): ${compare.error}`);
        else this.log.info(`Compare with PyTorch (${shown.className}, torch ${compare.torch}): largest |Δ| ${Math.max(0, ...compare.layers.map((l) => l.maxAbsDiff ?? 0)).toExponential(2)}`);
        this.module = { ...shown, compare };
        await this.post(this.module);
        return;
      }
      case 'report':
        this.lastReport = m;
        if (m.error) this.log.warn(`preview of ${this.blockId} failed on ${m.backend}: ${m.error}`);
        else this.log.info(`preview of ${this.blockId}: ${m.backend} (${m.adapter}), ${m.forwardMs.toFixed(1)} ms per forward`);
        return;
    }
  }

  /**
   * Lets the user pick one file and reads it: undefined when nothing was picked, or (said in a
   * notification) when the file is over `maxBytes`, cannot be read, or `use` throws.
   */
  private async pickFile<T>(filters: Record<string, string[]>, openLabel: string, maxBytes: number, what: string, use: (name: string, bytes: Uint8Array) => T): Promise<T | undefined> {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters, openLabel });
    const uri = picked?.[0];
    if (!uri) return undefined;
    const name = uri.path.split('/').pop() ?? uri.path;
    try {
      const stat = await vscode.workspace.fs.stat(uri);
      if (stat.size > maxBytes) {
        void vscode.window.showErrorMessage(`${name} is ${(stat.size / 2 ** 20).toFixed(0)} MiB; the preview reads ${what} of at most ${maxBytes >= 2 ** 30 ? `${maxBytes / 2 ** 30} GiB` : `${maxBytes / 2 ** 20} MiB`}.`);
        return undefined;
      }
      return use(name, new Uint8Array(await vscode.workspace.fs.readFile(uri)));
    } catch (e) {
      void vscode.window.showErrorMessage(`Could not load ${name}: ${e instanceof CheckpointError ? `it is ${e.message}` : (e as Error).message}`);
      return undefined;
    }
  }

  /** A trained checkpoint for the module shown: a `torch.save` file (read by the restricted unpickler, never executed) or safetensors. */
  private pickCheckpoint(): Promise<{ file: string; tensors: Map<string, Tensor> } | undefined> {
    return this.pickFile({ 'PyTorch weights': ['pt', 'pth', 'bin', 'ckpt', 'safetensors'] }, 'Load weights', MAX_WEIGHTS_BYTES, 'weights', (file, bytes) => ({ file, tensors: readStateDict(bytes).tensors }));
  }

  /** A PNG or JPEG for the module's input; its bytes go to the page, which decodes, resizes and normalises them. */
  private pickImage(): Promise<PreviewToWebview | undefined> {
    return this.pickFile({ Images: ['png', 'jpg', 'jpeg'] }, 'Use as input', MAX_IMAGE_BYTES, 'images', (fileName, bytes): PreviewToWebview => ({ type: 'image', fileName, bytes }));
  }


  private async pickWeights(): Promise<PreviewToWebview> {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { safetensors: ['safetensors'] }, openLabel: 'Load weights' });
    const uri = picked?.[0];
    if (!uri) return { type: 'weightsError', message: 'No file was picked.', cancelled: true };
    const name = uri.path.split('/').pop() ?? uri.path;
    try {
      const stat = await vscode.workspace.fs.stat(uri);
      if (stat.size > MAX_WEIGHTS_BYTES) return { type: 'weightsError', message: `${name} is ${(stat.size / 2 ** 20).toFixed(0)} MiB; the preview loads at most 1 GiB.`, cancelled: false };
      // A plain Uint8Array: the extension host may hand back a Node Buffer, which the webview
      // message serializer does not revive as a typed array.
      const bytes = new Uint8Array(await vscode.workspace.fs.readFile(uri));
      this.log.info(`sending ${name} (${bytes.length} bytes) to the preview`);
      return { type: 'weights', fileName: name, bytes };
    } catch (e) {
      return { type: 'weightsError', message: `Could not read ${name}: ${(e as Error).message}`, cancelled: false };
    }
  }

  private html(webview: vscode.Webview): string {
    const nonce = crypto.randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.root, 'preview.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.root, 'preview.css'));
    const worker = webview.asWebviewUri(vscode.Uri.joinPath(this.root, 'preview-worker.js'));
    return previewHtml({ nonce, cspSource: webview.cspSource, script: script.toString(), style: style.toString(), worker: worker.toString() });
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
