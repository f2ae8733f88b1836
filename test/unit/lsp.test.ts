/**
 * The language server as an editor sees it: `node dist/cli.js lsp --stdio` spawned as a process
 * and driven by a real LSP client (vscode-languageserver-protocol over the child's stdio) —
 * initialize, didOpen → publishDiagnostics, codeAction, hover, inlayHint, incremental didChange
 * (fixing and re-breaking the code), rule settings by didChangeConfiguration, didClose, and
 * shutdown/exit with exit code 0. Run `npm run build` first.
 */

import * as assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CodeAction, Hover, InlayHint, PublishDiagnosticsParams, ProtocolConnection, TextEdit } from 'vscode-languageserver-protocol/node';
import {
  CodeActionRequest,
  createProtocolConnection,
  DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  HoverRequest,
  InitializedNotification,
  InitializeRequest,
  InlayHintRequest,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';
import { mentionsSettings, parseSettings } from '../../src/lsp/server';
import { CORPUS } from './analysis.helpers';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
const FILE = path.join(CORPUS, 'view_after_transpose.py');

/** Applies LSP text edits (non-overlapping) to a text. */
function applyEdits(text: string, edits: TextEdit[]): string {
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  return [...edits]
    .sort((a, b) => offset(b.range.start) - offset(a.range.start))
    .reduce((t, e) => t.slice(0, offset(e.range.start)) + e.newText + t.slice(offset(e.range.end)), text);
}

describe('language server (attention-forge lsp --stdio)', function () {
  let child: ChildProcessWithoutNullStreams;
  let client: ProtocolConnection;
  let stderr = '';
  const published: PublishDiagnosticsParams[] = [];
  const waiters: (() => void)[] = [];
  const uri = pathToFileURL(FILE).href;
  const text = fs.readFileSync(FILE, 'utf8');
  const lines = text.split('\n');
  const errorLine = lines.findIndex((l) => l.includes('error: [view-after-permute]'));

  /** The next publishDiagnostics for `uri` (after those already seen) that satisfies `pred`. */
  async function diagnostics(pred: (p: PublishDiagnosticsParams) => boolean, seen = published.length): Promise<PublishDiagnosticsParams> {
    const deadline = Date.now() + 20000;
    for (;;) {
      const p = published.slice(seen).find((x) => x.uri === uri && pred(x));
      if (p) return p;
      if (Date.now() > deadline) throw new Error(`no matching publishDiagnostics; got ${JSON.stringify(published.slice(seen))}; stderr: ${stderr}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  before(async function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js missing: run npm run build');
    child = spawn(process.execPath, [CLI, 'lsp', '--stdio'], { stdio: 'pipe' });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    client = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    client.onNotification(PublishDiagnosticsNotification.type, (p) => {
      published.push(p);
      for (const w of waiters.splice(0)) w();
    });
    client.listen();
    const init = await client.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToFileURL(CORPUS).href,
      capabilities: { textDocument: { publishDiagnostics: { versionSupport: true }, inlayHint: {}, hover: { contentFormat: ['markdown'] }, codeAction: {} } },
      initializationOptions: { diagnostics: { debounceMs: 20 } },
      workspaceFolders: null,
    });
    assert.equal(init.serverInfo?.name, 'attention-forge');
    assert.ok(init.capabilities.hoverProvider && init.capabilities.inlayHintProvider && init.capabilities.codeActionProvider);
    await client.sendNotification(InitializedNotification.type, {});
  });

  after(function () {
    client?.dispose();
    if (child && child.exitCode === null) child.kill();
  });

  it('publishes the analyzer diagnostics on open', async function () {
    await client.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'python', version: 1, text } });
    const p = await diagnostics((x) => x.version === 1);
    assert.equal(p.diagnostics.length, 1, JSON.stringify(p.diagnostics));
    const d = p.diagnostics[0];
    assert.equal(d.code, 'view-after-permute');
    assert.equal(d.source, 'attention-forge');
    assert.equal(d.severity, 1);
    assert.equal(d.range.start.line, errorLine);
    assert.match(lines[errorLine].slice(d.range.start.character, d.range.end.character), /\.view\(/);
  });

  it('answers code actions with the fix and the suppression, as workspace edits', async function () {
    const p = await diagnostics((x) => x.version === 1, 0);
    const actions = (await client.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: p.diagnostics[0].range, context: { diagnostics: p.diagnostics } })) as CodeAction[];
    const titles = actions.map((a) => a.title);
    const fix = actions.find((a) => /^Use \.reshape/.test(a.title));
    assert.ok(fix, JSON.stringify(titles));
    assert.equal(fix.kind, 'quickfix');
    assert.deepEqual(fix.diagnostics, p.diagnostics);
    const fixed = applyEdits(text, fix.edit!.changes![uri]).split('\n');
    assert.match(fixed[errorLine], /\.reshape\(B, N, C\)/);
    assert.deepEqual(fixed.filter((_, i) => i !== errorLine), lines.filter((_, i) => i !== errorLine));
    const ignore = actions.find((a) => a.title === 'Ignore view-after-permute on this line');
    assert.ok(ignore, JSON.stringify(titles));
    assert.match(applyEdits(text, ignore.edit!.changes![uri]).split('\n')[errorLine], /# attention-forge: ignore\[view-after-permute\]$/);
    const elsewhere = (await client.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, context: { diagnostics: [] } })) as CodeAction[];
    assert.deepEqual(elsewhere, []);
  });

  it('hovers show the inferred shape, and the rule on a finding', async function () {
    const attnLine = lines.findIndex((l) => /^\s+attn = attn\.softmax/.test(l));
    const h = (await client.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: attnLine, character: lines[attnLine].indexOf('attn') + 1 } })) as Hover;
    const value = (h.contents as { value: string }).value;
    assert.match(value, /attn: \(2, 4, 6, 6\)/);
    assert.equal(h.range?.start.character, lines[attnLine].indexOf('attn'));
    const onFinding = (await client.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: errorLine, character: lines[errorLine].indexOf('.view(') + 2 } })) as Hover;
    assert.match((onFinding.contents as { value: string }).value, /\*\*view-after-permute\*\*/);
    assert.equal(await client.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 0, character: 0 } }), null);
  });

  it('inlay hints give the shapes assigned in forward, within the asked range', async function () {
    const all = (await client.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } } })) as InlayHint[];
    const attnLine = lines.findIndex((l) => /^\s+attn = attn\.softmax/.test(l));
    const hint = all.find((x) => x.position.line === attnLine);
    assert.ok(hint, JSON.stringify(all));
    assert.equal(hint.label, ': (2, 4, 6, 6)');
    assert.equal(hint.position.character, lines[attnLine].trimEnd().length);
    assert.ok(all.every((x) => x.position.line > lines.findIndex((l) => /def forward/.test(l))), 'hints only inside forward');
    const one = (await client.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: { start: { line: attnLine, character: 0 }, end: { line: attnLine, character: 0 } } })) as InlayHint[];
    assert.deepEqual(one.map((x) => x.position.line), [attnLine]);
  });

  it('re-checks on incremental changes: the fix clears the finding, undoing it brings it back', async function () {
    const col = lines[errorLine].indexOf('.view(') + 1;
    const range = { start: { line: errorLine, character: col }, end: { line: errorLine, character: col + 'view'.length } };
    await client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 2 }, contentChanges: [{ range, text: 'reshape' }] });
    const fixed = await diagnostics((x) => x.version === 2);
    assert.deepEqual(fixed.diagnostics, []);
    const back = { start: range.start, end: { line: errorLine, character: col + 'reshape'.length } };
    await client.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 3 }, contentChanges: [{ range: back, text: 'view' }] });
    const broken = await diagnostics((x) => x.version === 3);
    assert.deepEqual(broken.diagnostics.map((d) => [d.code, d.range.start.line]), [['view-after-permute', errorLine]]);
  });

  it('follows rule settings from didChangeConfiguration', async function () {
    const seen = published.length;
    await client.sendNotification(DidChangeConfigurationNotification.type, { settings: { attentionForge: { rules: { 'view-after-permute': 'off' } } } });
    assert.deepEqual((await diagnostics(() => true, seen)).diagnostics, []);
    const seen2 = published.length;
    await client.sendNotification(DidChangeConfigurationNotification.type, { settings: { attentionForge: { rules: { 'view-after-permute': 'hint' } } } });
    assert.deepEqual((await diagnostics(() => true, seen2)).diagnostics.map((d) => d.severity), [4]);
  });

  it('clears diagnostics on close and exits 0 after shutdown and exit', async function () {
    const seen = published.length;
    await client.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
    assert.deepEqual((await diagnostics(() => true, seen)).diagnostics, []);
    await client.sendRequest(ShutdownRequest.type);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await client.sendNotification(ExitNotification.type);
    assert.equal(await exited, 0, stderr);
  });

  it('refuses to start without --stdio', function () {
    const r = spawnSync(process.execPath, [CLI, 'lsp'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /lsp needs --stdio/);
  });
});

describe('language server settings', function () {
  it('reads the attentionForge section bare or wrapped, nested or with dotted keys', function () {
    assert.deepEqual(parseSettings(undefined), { rules: {}, shapeHints: true, debounceMs: 300 });
    assert.deepEqual(parseSettings({ attentionForge: { rules: { 'mask-polarity': 'off' }, shapeHints: { enabled: false }, diagnostics: { debounceMs: 9999 } } }), { rules: { 'mask-polarity': 'off' }, shapeHints: false, debounceMs: 5000 });
    assert.deepEqual(parseSettings({ 'rules.mask-polarity': 'hint', 'shapeHints.enabled': false, 'diagnostics.debounceMs': 10 }), { rules: { 'mask-polarity': 'hint' }, shapeHints: false, debounceMs: 10 });
    assert.deepEqual(parseSettings({ rules: { 'mask-polarity': 'loud' }, diagnostics: { debounceMs: -1 } }), { rules: { 'mask-polarity': 'default' }, shapeHints: true, debounceMs: 300 });
  });

  it('ignores configuration changes that are not ours', function () {
    assert.equal(mentionsSettings({ pyright: { typeCheckingMode: 'strict' } }), false);
    assert.equal(mentionsSettings(null), false);
    assert.equal(mentionsSettings({ attentionForge: {} }), true);
    assert.equal(mentionsSettings({ 'rules.mask-polarity': 'off' }), true);
  });
});
