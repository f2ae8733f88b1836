/**
 * Attention over an image input (issue "Preview any module", item 4), the pure parts: an RGBA
 * buffer as the normalised CHW tensor, the mean/std fields' reading, patch-grid detection, one
 * query's attention over the grid, and attention rollout against a hand-computed example.
 */

import * as assert from 'node:assert/strict';
import { attentionOverPatches, IMAGENET_MEAN, IMAGENET_STD, parseTriple, patchGrid, queryName, resizeRGBA, rgbaToCHW } from '../../webview/preview/image-input';
import { meanOverHeads, rollout, withResidual } from '../../webview/preview/rollout';

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6): void {
  assert.equal(a.length, b.length, 'length');
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
}

describe('image input and attention over it', function () {
  it('turns RGBA pixels into normalised CHW planes (alpha ignored)', function () {
    // A 2×1 image: a red pixel, then a grey one with alpha 0.
    const rgba = [255, 0, 0, 255, 51, 102, 204, 0];
    const x = rgbaToCHW(rgba, 2, 1, [0.5, 0.5, 0.5], [0.5, 0.25, 0.5]);
    close(x, [(1 - 0.5) / 0.5, (0.2 - 0.5) / 0.5, (0 - 0.5) / 0.25, (0.4 - 0.5) / 0.25, (0 - 0.5) / 0.5, (0.8 - 0.5) / 0.5]);
    const white = rgbaToCHW([255, 255, 255, 255], 1, 1, IMAGENET_MEAN, IMAGENET_STD);
    close(white, [(1 - 0.485) / 0.229, (1 - 0.456) / 0.224, (1 - 0.406) / 0.225]);
    assert.throws(() => rgbaToCHW([0, 0, 0], 1, 1, IMAGENET_MEAN, IMAGENET_STD), RangeError);
  });

  it('resizes RGBA: area averages where an axis shrinks, bilinear (half-pixel centres) where it grows', function () {
    // 2×2 → 1×1: the mean of the four pixels, per channel (alpha too).
    const px = [0, 10, 20, 255, 100, 30, 40, 255, 50, 50, 60, 0, 10, 90, 80, 255];
    assert.deepEqual([...resizeRGBA(px, 2, 2, 1, 1)], [40, 45, 50, 191]);
    // 3×1 → 2×1: bins [0, 2) and [1, 3), as adaptive_avg_pool (F.interpolate mode='area').
    const row = [0, 0, 0, 0, 30, 60, 90, 120, 90, 120, 150, 180];
    assert.deepEqual([...resizeRGBA(row, 3, 1, 2, 1)], [15, 30, 45, 60, 60, 90, 120, 150]);
    // 2×1 → 4×1, bilinear with align_corners=False: x = -0.25 (clamped), 0.25, 0.75, 1.25 → weights of the right pixel 0, 0.25, 0.75, 1.
    const up = resizeRGBA([0, 0, 0, 0, 200, 100, 40, 255], 2, 1, 4, 1);
    assert.deepEqual([...up].filter((_, i) => i % 4 === 0), [0, 50, 150, 200]);
    assert.deepEqual([...up].filter((_, i) => i % 4 === 2), [0, 10, 30, 40]);
    // One size to the same: unchanged; a short buffer is refused.
    assert.deepEqual([...resizeRGBA(px, 2, 2, 2, 2)], px);
    assert.throws(() => resizeRGBA(px, 3, 2, 1, 1), RangeError);
  });

  it('reads a mean or std of three numbers, and refuses anything else', function () {
    assert.deepEqual(parseTriple('0.485, 0.456,0.406', false), [0.485, 0.456, 0.406]);
    assert.deepEqual(parseTriple('-1 0 1', false), [-1, 0, 1]);
    assert.equal(parseTriple('-1 0 1', true), undefined);
    assert.equal(parseTriple('0.2, 0.2', true), undefined);
    assert.equal(parseTriple('0.2, x, 0.2', false), undefined);
    assert.equal(parseTriple('1e400, 1, 1', false), undefined);
  });

  it('finds a square patch grid, with or without a class token', function () {
    assert.deepEqual(patchGrid(196), { g: 14, cls: false });
    assert.deepEqual(patchGrid(197), { g: 14, cls: true });
    assert.deepEqual(patchGrid(4), { g: 2, cls: false });
    assert.deepEqual(patchGrid(5), { g: 2, cls: true });
    for (const S of [0, 1, 2, 3, 6, 11, 198, 2.5]) assert.equal(patchGrid(S), undefined, String(S));
  });

  it("shows the class token's row, or the mean over queries, over the patches", function () {
    // L = S = 5 (class token + 2×2): row 0 without its own key.
    const m = Float32Array.from({ length: 25 }, (_, i) => i);
    close(attentionOverPatches(m, 5, 5, { g: 2, cls: true }), [1, 2, 3, 4]);
    // L = 2 queries over S = 4 patches: the mean of the two rows.
    close(attentionOverPatches([1, 2, 3, 4, 3, 4, 5, 6], 2, 4, { g: 2, cls: false }), [2, 3, 4, 5]);
    // L ≠ S with a class token among the keys: the mean over queries, class key dropped.
    close(attentionOverPatches([9, 1, 2, 3, 4, 9, 3, 4, 5, 6], 2, 5, { g: 2, cls: true }), [2, 3, 4, 5]);
    // A chosen query: its row; the mean on request; an index out of range falls back to the mean.
    close(attentionOverPatches(m, 5, 5, { g: 2, cls: true }, 3), [16, 17, 18, 19]);
    close(attentionOverPatches(m, 5, 5, { g: 2, cls: true }, 'mean'), [11, 12, 13, 14]);
    close(attentionOverPatches(m, 5, 5, { g: 2, cls: true }, 5), [11, 12, 13, 14]);
    assert.equal(queryName('default', 5, 5, { g: 2, cls: true }), 'the class token');
    assert.equal(queryName(4, 5, 5, { g: 2, cls: true }), 'patch (1, 1)');
    assert.equal(queryName('default', 2, 4, { g: 2, cls: false }), 'the mean over 2 queries');
    assert.equal(queryName(1, 2, 4, { g: 2, cls: false }), 'query 1');
  });

  it('adds the residual and renormalises rows', function () {
    close(withResidual(Float64Array.from([0, 1, 1, 0]), 2), [0.5, 0.5, 0.5, 0.5]);
    close(withResidual(Float64Array.from([0.2, 0.8, 0.6, 0.4]), 2), [0.6, 0.4, 0.3, 0.7]);
    close(meanOverHeads(Float32Array.from([1, 0, 0, 1, 0, 1, 1, 0]), 2, 2), [0.5, 0.5, 0.5, 0.5]);
  });

  it('rolls attention out as Â_n ⋯ Â_1 (hand-computed)', function () {
    // Â_1 = 0.5·[[0, 1], [1, 0]] + 0.5·I = [[0.5, 0.5], [0.5, 0.5]];
    // Â_2 = 0.5·[[1, 0], [0.5, 0.5]] + 0.5·I = [[1, 0], [0.25, 0.75]].
    // R = Â_2·Â_1 = [[0.5, 0.5], [0.5, 0.5]]; the other order Â_1·Â_2 would give [[0.625, 0.375], [0.625, 0.375]].
    const a1 = Float64Array.from([0, 1, 1, 0]);
    const a2 = Float64Array.from([1, 0, 0.5, 0.5]);
    close(rollout([a1, a2], 2)!, [0.5, 0.5, 0.5, 0.5]);
    // Â_1 = [[0.6, 0.4], [0.3, 0.7]] (from [[0.2, 0.8], [0.6, 0.4]]), Â_2 = [[1, 0], [0.25, 0.75]]:
    // R = Â_2·Â_1 = [[0.6, 0.4], [0.25·0.6 + 0.75·0.3, 0.25·0.4 + 0.75·0.7]] = [[0.6, 0.4], [0.375, 0.625]].
    close(rollout([Float64Array.from([0.2, 0.8, 0.6, 0.4]), a2], 2)!, [0.6, 0.4, 0.375, 0.625]);
    // One layer is its Â; rows of the rollout stay stochastic.
    close(rollout([a2], 2)!, [1, 0, 0.25, 0.75]);
    assert.equal(rollout([], 2), undefined);
    assert.equal(rollout([Float64Array.from([1, 0, 0])], 2), undefined);
  });
});
