/**
 * The form's message protocol (src/protocol/form.ts): well-formed messages pass, anything else
 * is dropped on receipt in both directions; persisted state is read defensively.
 */

import * as assert from 'node:assert/strict';
import { parseFormState, parseFromWebview, parseToWebview } from '../../src/protocol/form';
import { blockEntries } from '../../src/extension/scaffold';
import { languageAvailability } from '../../src/extension/generators';

const choice = { blockId: 'se', values: { channels: '64' }, language: 'pytorch' };

describe('form protocol', function () {
  it('accepts the webview messages it defines', function () {
    assert.deepEqual(parseFromWebview({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseFromWebview({ type: 'update', seq: 3, choice }), { type: 'update', seq: 3, choice });
    assert.deepEqual(parseFromWebview({ type: 'action', action: 'newFile', choice }), { type: 'action', action: 'newFile', choice });
  });

  it('drops malformed webview messages', function () {
    for (const bad of [
      null, 'ready', [], {}, { type: 'eval', code: '1' },
      { type: 'update', seq: 1.5, choice },
      { type: 'update', seq: 1, choice: { ...choice, language: 'rust' } },
      { type: 'update', seq: 1, choice: { ...choice, values: { channels: 64 } } },
      { type: 'action', action: 'rm', choice },
    ]) assert.equal(parseFromWebview(bad), undefined, JSON.stringify(bad));
  });

  it('accepts what the extension sends and drops malformed replies', function () {
    const init = { type: 'init', blocks: blockEntries(), languages: languageAvailability() };
    assert.ok(parseToWebview(JSON.parse(JSON.stringify(init))));
    assert.ok(parseToWebview({ type: 'preview', seq: 1, code: null, issues: [{ param: 'a', message: 'b' }], shapes: [] }));
    assert.equal(parseToWebview({ type: 'preview', seq: 1, code: 3, issues: [], shapes: [] }), undefined);
    assert.equal(parseToWebview({ type: 'init', blocks: [{ id: 1 }], languages: [] }), undefined);
  });

  it('reads persisted state defensively', function () {
    assert.deepEqual(parseFormState(undefined), {});
    assert.deepEqual(parseFormState({ choice, filter: 'x', junk: 1 }), { choice, filter: 'x' });
    assert.deepEqual(parseFormState({ choice: { blockId: 3 } }), {});
  });
});
