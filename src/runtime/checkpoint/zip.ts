/**
 * A minimal reader of the zip archives `torch.save` writes (torch ≥ 1.6): it
 * reads the central directory (zip64 included), checks every entry's local
 * header and data range against the file, and returns each entry as a view
 * of the caller's bytes — nothing is copied or decompressed. Only stored
 * entries (method 0) are accepted, because PyTorch's writer never compresses;
 * a compressed entry is refused by name. It does not interpret the entries
 * (see `torch.ts`), write archives, or read encrypted or multi-disk ones.
 *
 * Why not an npm zip library: the runtime has no dependencies (it is bundled
 * into the webview and published alone), the general readers copy or inflate
 * every entry — a second copy of a checkpoint of hundreds of MB — and the
 * subset torch writes is small enough to validate completely here.
 */

import { CheckpointError } from './errors';

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function u64(dv: DataView, at: number): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointError(`zip: a 64-bit field at byte ${at} is too large (${v})`);
  return Number(v);
}

/** Whether the bytes start like a zip archive (a local file header). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** The archive's entries by name, in central-directory order, as views of `bytes`. */
export function readZip(bytes: Uint8Array): Map<string, Uint8Array> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  // The end-of-central-directory record is the last 22 bytes plus a comment of up to 65535.
  let eocd = -1;
  for (let p = len - 22; p >= 0 && p >= len - 22 - 0xffff; p--) {
    if (dv.getUint32(p, true) === EOCD && p + 22 + dv.getUint16(p + 20, true) <= len) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) throw new CheckpointError('zip: end of central directory not found (a truncated or damaged file)');
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== ZIP64_LOCATOR) throw new CheckpointError('zip: zip64 end-of-central-directory locator missing');
    const z = u64(dv, loc + 8);
    if (z + 56 > len || dv.getUint32(z, true) !== ZIP64_EOCD) throw new CheckpointError('zip: zip64 end of central directory not found');
    count = u64(dv, z + 32);
    cdSize = u64(dv, z + 40);
    cdOffset = u64(dv, z + 48);
  }
  if (cdOffset + cdSize > len) throw new CheckpointError(`zip: the central directory (${cdSize} bytes at ${cdOffset}) lies outside the file of ${len} bytes (truncated?)`);
  // Each central entry takes at least 46 bytes, so the count is bounded by the directory's size.
  if (count * 46 > cdSize) throw new CheckpointError(`zip: ${count} entries cannot fit in a central directory of ${cdSize} bytes`);
  const out = new Map<string, Uint8Array>();
  const dec = new TextDecoder();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdOffset + cdSize || dv.getUint32(p, true) !== CENTRAL) throw new CheckpointError(`zip: central directory entry ${i} is damaged`);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    let compSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let local = dv.getUint32(p + 42, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cdOffset + cdSize) throw new CheckpointError(`zip: central directory entry ${i} runs past the directory`);
    const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // zip64: the extended information field holds, in order, whichever sizes and offset are 0xFFFFFFFF.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = dv.getUint16(e, true);
      const n = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        const fieldEnd = e + 4 + n;
        if (size === 0xffffffff && q + 8 <= fieldEnd) {
          size = u64(dv, q);
          q += 8;
        }
        if (compSize === 0xffffffff && q + 8 <= fieldEnd) {
          compSize = u64(dv, q);
          q += 8;
        }
        if (local === 0xffffffff && q + 8 <= fieldEnd) local = u64(dv, q);
      }
      e += 4 + n;
    }
    if (flags & 1) throw new CheckpointError(`zip: entry ${name} is encrypted`);
    if (method !== 0) throw new CheckpointError(`zip: entry ${name} is compressed (method ${method}); torch.save writes stored entries — load and save it again with torch.save`);
    if (compSize !== size) throw new CheckpointError(`zip: stored entry ${name} declares ${size} bytes but occupies ${compSize}`);
    if (local + 30 > len || dv.getUint32(local, true) !== LOCAL) throw new CheckpointError(`zip: the local header of ${name} at byte ${local} is missing (truncated?)`);
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    if (start + size > len) throw new CheckpointError(`zip: entry ${name} (${size} bytes at ${start}) runs past the end of the file of ${len} bytes (truncated?)`);
    if (out.has(name)) throw new CheckpointError(`zip: entry ${name} appears twice`);
    out.set(name, bytes.subarray(start, start + size));
    p = end;
  }
  return out;
}
