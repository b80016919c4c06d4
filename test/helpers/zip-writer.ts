import { constants, crc32, deflateRawSync } from 'node:zlib';
import { deflateSync } from 'fflate';

/** One member of an archive as `zip` writes it; the optional fields let a test lie about it. */
export interface Entry {
  readonly name: string;
  /** The member's bytes once extracted. */
  readonly data: Uint8Array;
  readonly method?: number;
  /** The bytes as they lie in the archive (default: `data`, or `data` deflated for method 8). */
  readonly raw?: Uint8Array;
  /** The declared uncompressed size (default: `data`'s length). */
  readonly size?: number;
  /** Sizes and offset in the directory's ZIP64 extra field, as Python writes them for a member over 4 GiB. */
  readonly zip64Directory?: boolean;
}

/**
 * A zip laid out as np.savez writes it through Python's zipfile (force_zip64: a ZIP64 extra field
 * in every local header; dates 1980-01-01), built here so that each test can lie in one place.
 * `zip64End` adds the ZIP64 end records Python writes for more than 65,535 members or 4 GiB.
 */
export function zip(entries: readonly Entry[], { zip64End = false } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const directory: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const method = entry.method ?? 0;
    const raw = entry.raw ?? (method === 8 ? deflateSync(entry.data) : entry.data);
    const size = entry.size ?? entry.data.length;
    const crc = crc32(entry.data);
    const name = new TextEncoder().encode(entry.name);
    const flags = /^[\x00-\x7f]*$/.test(entry.name) ? 0 : 0x800;

    const local = new Uint8Array(30 + name.length + 20);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 45, true);
    lv.setUint16(6, flags, true);
    lv.setUint16(8, method, true);
    lv.setUint16(12, 0x21, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, 0xffffffff, true);
    lv.setUint32(22, 0xffffffff, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, 20, true);
    local.set(name, 30);
    lv.setUint16(30 + name.length, 1, true);
    lv.setUint16(32 + name.length, 16, true);
    lv.setBigUint64(34 + name.length, BigInt(size), true);
    lv.setBigUint64(42 + name.length, BigInt(raw.length), true);

    const extra = entry.zip64Directory ? 28 : 0;
    const central = new Uint8Array(46 + name.length + extra);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 0x032d, true);
    cv.setUint16(6, 45, true);
    cv.setUint16(8, flags, true);
    cv.setUint16(10, method, true);
    cv.setUint16(14, 0x21, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, entry.zip64Directory ? 0xffffffff : raw.length, true);
    cv.setUint32(24, entry.zip64Directory ? 0xffffffff : size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, extra, true);
    cv.setUint32(38, 0x01800000, true);
    cv.setUint32(42, entry.zip64Directory ? 0xffffffff : offset, true);
    central.set(name, 46);
    if (entry.zip64Directory) {
      cv.setUint16(46 + name.length, 1, true);
      cv.setUint16(48 + name.length, 24, true);
      cv.setBigUint64(50 + name.length, BigInt(size), true);
      cv.setBigUint64(58 + name.length, BigInt(raw.length), true);
      cv.setBigUint64(66 + name.length, BigInt(offset), true);
    }
    parts.push(local, raw);
    directory.push(central);
    offset += local.length + raw.length;
  }
  const directorySize = directory.reduce((sum, part) => sum + part.length, 0);
  const tail = new Uint8Array((zip64End ? 76 : 0) + 22);
  const tv = new DataView(tail.buffer);
  let end = 0;
  if (zip64End) {
    tv.setUint32(0, 0x06064b50, true);
    tv.setBigUint64(4, 44n, true);
    tv.setUint16(12, 45, true);
    tv.setUint16(14, 45, true);
    tv.setBigUint64(24, BigInt(entries.length), true);
    tv.setBigUint64(32, BigInt(entries.length), true);
    tv.setBigUint64(40, BigInt(directorySize), true);
    tv.setBigUint64(48, BigInt(offset), true);
    tv.setUint32(56, 0x07064b50, true);
    tv.setBigUint64(64, BigInt(offset + directorySize), true);
    tv.setUint32(72, 1, true);
    end = 76;
  }
  tv.setUint32(end, 0x06054b50, true);
  tv.setUint16(end + 8, zip64End ? 0xffff : entries.length, true);
  tv.setUint16(end + 10, zip64End ? 0xffff : entries.length, true);
  tv.setUint32(end + 12, zip64End ? 0xffffffff : directorySize, true);
  tv.setUint32(end + 16, zip64End ? 0xffffffff : offset, true);
  return concat([...parts, ...directory, tail]);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}


/**
 * A raw deflate stream of `mebibytes` MiB of zeros, about 1 kB a MiB, built without inflating
 * anything: one MiB deflated and flushed to a byte boundary (Z_SYNC_FLUSH), repeated, then an
 * empty final block. A 2 GiB zip bomb is a 2 MB stream.
 */
export function zerosStream(mebibytes: number): Uint8Array {
  const unit = deflateRawSync(new Uint8Array(1 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
  const finalEmptyBlock = Uint8Array.of(0x03, 0x00);
  return concat([...Array.from({ length: mebibytes }, () => unit), finalEmptyBlock]);
}
