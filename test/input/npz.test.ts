import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { deflateSync, unzipSync } from 'fflate';
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/input-error.js';
import { NPZ_INFLATE_BUDGET, parseNpz } from '../../src/input/npz.js';
import { ROOT } from '../helpers/run-cli.js';
import { PROPERTY_OPTIONS, propertyTimeout } from '../helpers/properties.js';
import { zip } from '../helpers/zip-writer.js';

const NPZ = join(ROOT, 'test', 'data', 'npz');
const written = readdirSync(NPZ).filter((name) => name.endsWith('.npz') && name !== 'savez-int64.npz').sort();
const bytesOf = (name: string): Uint8Array => new Uint8Array(readFileSync(join(NPZ, name)));
const DTYPES: Record<string, string> = { f8: 'float64', f4: 'float32', f2: 'float16' };

interface Sidecar {
  readonly arrays: Record<string, { readonly dtype: string; readonly shape: number[]; readonly values: number[] }>;
}

/** Where a member of a well-formed archive lies: its directory entry, and its data. */
function locate(bytes: Uint8Array, name: string): { entry: number; data: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = view.getUint32(bytes.length - 22 + 16, true);
  for (;;) {
    const nameLength = view.getUint16(at + 28, true);
    if (new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength)) === name) {
      const local = view.getUint32(at + 42, true);
      return { entry: at, data: local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true) };
    }
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
}

/** A copy of `bytes` with `edit` applied to it through a DataView. */
function edited(bytes: Uint8Array, edit: (view: DataView, bytes: Uint8Array) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer), copy);
  return copy;
}

/** The .npy bytes numpy wrote for a member, read by fflate, independently of the reader under test. */
const membersOf = (bytes: Uint8Array): Record<string, Uint8Array> => unzipSync(bytes);
const NPY_X = membersOf(bytesOf('savez-f8.npz'))['x.npy'];

describe('parseNpz', () => {
  test('there are numpy-written archives of both kinds, each dtype and both layouts', () => {
    expect(written).toEqual(
      ['f2', 'f4', 'f8', 'layouts'].flatMap((what) => [`savez-${what}.npz`, `savez_compressed-${what}.npz`]).sort(),
    );
  });

  test.each(written)("reads every member of %s to numpy's own values, bit for bit, in row-major order", (name) => {
    const expected = JSON.parse(readFileSync(join(NPZ, name.replace(/\.npz$/, '.json')), 'utf8')) as Sidecar;
    const tensors = parseNpz(bytesOf(name), name);
    expect([...tensors.keys()]).toEqual(Object.keys(expected.arrays));
    for (const [key, array] of Object.entries(expected.arrays)) {
      const tensor = tensors.get(key)!;
      expect(tensor.shape).toEqual(array.shape);
      expect(tensor.stored).toBe(DTYPES[array.dtype.slice(1)]);
      expect(Array.from(tensor.data).every((v, i) => Object.is(v, array.values[i]))).toBe(true);
    }
  });

  test("the test's zip writer lays an archive out byte for byte as np.savez does", () => {
    const original = bytesOf('savez-f8.npz');
    const members = Object.entries(membersOf(original)).map(([name, data]) => ({ name, data }));
    expect(zip(members)).toEqual(original);
  });

  test('reads an archive with no members (np.savez with no arrays) as no arrays', () => {
    expect(parseNpz(zip([]), 'dump.npz').size).toBe(0);
  });

  test('reads ZIP64 end records and ZIP64 sizes in the directory, as Python writes past 4 GiB', () => {
    const archive = zip([{ name: 'x.npy', data: NPY_X, method: 8, zip64Directory: true }, { name: 'g.npy', data: NPY_X }], { zip64End: true });
    const tensors = parseNpz(archive, 'dump.npz');
    expect([...tensors.keys()]).toEqual(['x', 'g']);
    expect(tensors.get('x')!.data).toEqual(tensors.get('g')!.data);
  });

  test('reads a member whose non-ASCII name is flagged UTF-8', () => {
    expect([...parseNpz(zip([{ name: 'größe.npy', data: NPY_X }]), 'dump.npz').keys()]).toEqual(['größe']);
  });

  const savez = bytesOf('savez-f8.npz');
  const compressed = bytesOf('savez_compressed-f8.npz');
  const random = Uint8Array.from({ length: 1000 }, (_, k) => (k * 2654435761) >>> 24);
  const NOT_AN_ARCHIVE = 'dump.npz is not a valid .npz archive:';
  const CUT_SHORT = `${NOT_AN_ARCHIVE} it is cut short (the zip end-of-central-directory record is missing)`;

  test.each<[string, Uint8Array, string]>([
    ['an empty file', new Uint8Array(), `${NOT_AN_ARCHIVE} the file is empty`],
    ['random bytes', random, `${NOT_AN_ARCHIVE} it is not a zip file (no end-of-central-directory record)`],
    ['a .npy file', NPY_X, `${NOT_AN_ARCHIVE} it is a .npy file, not a zip archive of them`],
    ['an archive cut in half', savez.subarray(0, savez.length >> 1), CUT_SHORT],
    ['an archive short of its last byte', savez.subarray(0, savez.length - 1), CUT_SHORT],
    ['an archive short of its last 3 bytes', savez.subarray(0, savez.length - 3), CUT_SHORT],
    ['a compressed archive short of its last byte', compressed.subarray(0, compressed.length - 1), CUT_SHORT],
    ['a compressed archive short of its last 3 bytes', compressed.subarray(0, compressed.length - 3), CUT_SHORT],
    [
      'a central directory beyond the end',
      edited(savez, (view, bytes) => view.setUint32(bytes.length - 22 + 16, 5000, true)),
      `${NOT_AN_ARCHIVE} its central directory is damaged or lies past the end of the file (entry 1 has no name)`,
    ],
    [
      'a directory that claims more entries than it holds',
      edited(savez, (view, bytes) => view.setUint16(bytes.length - 22 + 8, 6, true)),
      `${NOT_AN_ARCHIVE} its central directory is damaged or lies past the end of the file (entry 5 has no name)`,
    ],
    [
      'a damaged ZIP64 end record',
      edited(zip([{ name: 'x.npy', data: NPY_X }], { zip64End: true }), (view, bytes) => view.setUint32(bytes.length - 22 - 76, 0, true)),
      `${NOT_AN_ARCHIVE} its central directory is damaged or lies past the end of the file (entry 1 has no name)`,
    ],
    [
      'a directory entry pointing to ZIP64 sizes it lacks',
      edited(zip([{ name: 'x.npy', data: NPY_X }], { zip64End: true }), (view, bytes) => view.setUint32(bytes.length - 22 - 76 - 46 - 5 + 24, 0xffffffff, true)),
      `${NOT_AN_ARCHIVE} its central directory is damaged (entry 1 points to ZIP64 sizes it lacks)`,
    ],
    [
      'a ZIP64 size in a directory without ZIP64 end records (read as 4294967295)',
      edited(savez, (view) => view.setUint32(locate(savez, 'x.npy').entry + 24, 0xffffffff, true)),
      `${NOT_AN_ARCHIVE} member x.npy is stored uncompressed, yet its sizes differ (176 and 4294967295 bytes)`,
    ],
    [
      // fflate takes the local header's name and extra lengths from wherever the offset points.
      "a stored member whose directory offset points into another member's local header",
      edited(savez, (view) => view.setUint32(locate(savez, 'g.npy').entry + 42, 5, true)),
      `${NOT_AN_ARCHIVE} member g.npy's data runs past the end of the file (0 of its 176 bytes are there)`,
    ],
    [
      'a stored member whose directory offset points at the central directory',
      edited(savez, (view) => view.setUint32(locate(savez, 'g.npy').entry + 42, locate(savez, 'x.npy').entry, true)),
      'dump.npz member g.npy is not a valid .npy file: it does not start with \\x93NUMPY',
    ],
    [
      'a stored member whose directory offset points past the end',
      edited(savez, (view) => view.setUint32(locate(savez, 'g.npy').entry + 42, 100_000, true)),
      `${NOT_AN_ARCHIVE} member g.npy's data runs past the end of the file (0 of its 176 bytes are there)`,
    ],
    [
      'a stored member whose data runs past the end',
      edited(savez, (view) => {
        view.setUint32(locate(savez, 'grad.npy').entry + 20, 1000, true);
        view.setUint32(locate(savez, 'grad.npy').entry + 24, 1000, true);
      }),
      `${NOT_AN_ARCHIVE} member grad.npy's data runs past the end of the file (411 of its 1000 bytes are there)`,
    ],
    [
      'a stored member whose data runs into the central directory',
      edited(savez, (view) => {
        view.setUint32(locate(savez, 'grad.npy').entry + 20, 180, true);
        view.setUint32(locate(savez, 'grad.npy').entry + 24, 180, true);
      }),
      "dump.npz member grad.npy is not a valid .npy file: the header's shape (2, 3) of <f8 needs 48 bytes of data, but 52 follow",
    ],
    [
      'a stored member whose sizes differ',
      edited(savez, (view) => view.setUint32(locate(savez, 'x.npy').entry + 24, 100, true)),
      `${NOT_AN_ARCHIVE} member x.npy is stored uncompressed, yet its sizes differ (176 and 100 bytes)`,
    ],
    [
      'a directory entry whose name runs past the directory',
      edited(savez, (view) => view.setUint16(locate(savez, 'grad.npy').entry + 28, 300, true)),
      // fflate cuts the name at the end of the file: the name, then the end record, quoted.
      `${NOT_AN_ARCHIVE} member ${JSON.stringify(`grad.npy${String.fromCharCode(...savez.subarray(-22))}`)} is not a .npy file (np.savez writes only NAME.npy members)`,
    ],
    [
      'a member that is not .npy',
      zip([{ name: 'x.npy', data: NPY_X }, { name: 'notes.txt', data: new TextEncoder().encode('hello') }]),
      `${NOT_AN_ARCHIVE} member notes.txt is not a .npy file (np.savez writes only NAME.npy members)`,
    ],
    [
      'a member with an odd name, quoted on one line',
      zip([{ name: 'a\nb\u0085', data: NPY_X }]),
      `${NOT_AN_ARCHIVE} member "a\\nb\\u0085" is not a .npy file (np.savez writes only NAME.npy members)`,
    ],
    [
      'a member with a long name, cut short',
      zip([{ name: `${'a'.repeat(100)}.txt`, data: NPY_X }]),
      `${NOT_AN_ARCHIVE} member "${'a'.repeat(57)}..." is not a .npy file (np.savez writes only NAME.npy members)`,
    ],
    [
      'a member inside a folder',
      zip([{ name: 'arrays/x.npy', data: NPY_X }]),
      `${NOT_AN_ARCHIVE} member arrays/x.npy is inside a folder (np.savez writes NAME.npy members at the top level)`,
    ],
    [
      'a member named twice',
      zip([{ name: 'x.npy', data: NPY_X }, { name: 'x.npy', data: NPY_X }]),
      `${NOT_AN_ARCHIVE} member x.npy appears twice`,
    ],
    [
      'an unknown compression method (LZMA)',
      edited(compressed, (view) => view.setUint16(locate(compressed, 'g.npy').entry + 10, 14, true)),
      `${NOT_AN_ARCHIVE} member g.npy uses compression method 14; only stored (0) and deflate (8) are read`,
    ],
    [
      'a corrupt deflate stream (bytes inside it overwritten)',
      edited(compressed, (_, bytes) => bytes.fill(0xff, locate(compressed, 'x.npy').data + 1, locate(compressed, 'x.npy').data + 5)),
      `${NOT_AN_ARCHIVE} member x.npy's deflate stream is corrupt (fflate: invalid distance)`,
    ],
    [
      'a deflate stream with an invalid block type',
      edited(compressed, (_, bytes) => bytes.fill(0xff, locate(compressed, 'grad.npy').data, locate(compressed, 'grad.npy').data + 4)),
      `${NOT_AN_ARCHIVE} member grad.npy's deflate stream is corrupt (fflate: invalid block type)`,
    ],
    [
      'a deflate stream cut short',
      zip([{ name: 'x.npy', data: NPY_X, method: 8, raw: deflateSync(NPY_X).subarray(0, 40) }]),
      `${NOT_AN_ARCHIVE} member x.npy's deflate stream ends too soon (fflate: unexpected EOF)`,
    ],
    [
      'an empty deflate stream',
      zip([{ name: 'x.npy', data: NPY_X, method: 8, raw: new Uint8Array() }]),
      `${NOT_AN_ARCHIVE} member x.npy inflates to 0 bytes, not the 176 it declares`,
    ],
    [
      'a deflate stream that inflates to more than declared',
      zip([{ name: 'x.npy', data: NPY_X, method: 8, size: 100 }]),
      `${NOT_AN_ARCHIVE} member x.npy inflates to more than the 100 bytes it declares`,
    ],
    [
      'a deflate stream of stored blocks that inflates to more than declared',
      zip([{ name: 'x.npy', data: NPY_X, method: 8, raw: deflateSync(NPY_X, { level: 0 }), size: 100 }]),
      `${NOT_AN_ARCHIVE} member x.npy inflates to more than the 100 bytes it declares`,
    ],
    [
      'a deflate stream that inflates to less than declared',
      zip([{ name: 'x.npy', data: NPY_X, method: 8, size: 1000 }]),
      `${NOT_AN_ARCHIVE} member x.npy inflates to 176 bytes, not the 1000 it declares`,
    ],
    // Bombs that declare what they inflate to are made by editing the sizes in a copy of a real
    // archive: refused before anything is inflated (the lying ones are in their own tests below).
    [
      'a member declaring more than the budget',
      edited(compressed, (view) => view.setUint32(locate(compressed, 'g.npy').entry + 24, 0xfffffffe, true)),
      `dump.npz is too large to read: its members declare 4294967470 bytes uncompressed by member g.npy, over the ${NPZ_INFLATE_BUDGET} (1 GiB) an .npz may inflate to`,
    ],
    [
      'members declaring more than the budget in all, each within it',
      edited(compressed, (view) => {
        for (const name of ['x.npy', 'g.npy', 'softmax.npy']) view.setUint32(locate(compressed, name).entry + 24, 2 ** 29, true);
      }),
      // x and g make 1 GiB exactly, which is within the budget.
      `dump.npz is too large to read: its members declare ${3 * 2 ** 29} bytes uncompressed by member softmax.npy, over the ${NPZ_INFLATE_BUDGET} (1 GiB) an .npz may inflate to`,
    ],
  ])('refuses %s, saying what is wrong', (_, bytes, message) => {
    expect(() => parseNpz(bytes, 'dump.npz')).toThrow(new InputError(message));
  });

  test('names the member whose .npy numpy wrote but softmax-verify does not read (int64)', () => {
    expect(() => parseNpz(bytesOf('savez-int64.npz'), 'savez-int64.npz')).toThrow(
      new InputError(
        `savez-int64.npz member x.npy is not a valid .npy file: dtype "<i8" is not float64, float32 or float16 ('<f8', '<f4', '<f2', or big-endian '>')`,
      ),
    );
  });

  test('names the member whose .npy is empty', () => {
    const empty = membersOf(zip([{ name: 'x.npy', data: NPY_X }]))['x.npy'].slice();
    empty.set(new TextEncoder().encode("'shape': (0,), "), new TextDecoder().decode(empty).indexOf("'shape'"));
    expect(() => parseNpz(zip([{ name: 'g.npy', data: NPY_X }, { name: 'x.npy', data: empty.subarray(0, 128) }]), 'dump.npz')).toThrow(
      new InputError('dump.npz member x.npy is empty (shape [0])'),
    );
  });

  test('fflate behaves as the reader relies on: an error thrown by the filter comes out as it is, and a file with no end record ends promptly', () => {
    const thrown = (work: () => unknown): unknown => {
      try {
        work();
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const refusal = new InputError('refused');
    expect(
      thrown(() =>
        unzipSync(compressed, {
          filter: () => {
            throw refusal;
          },
        }),
      ),
    ).toBe(refusal);
    // Its end-record scan walks back at most 65,558 bytes, so even a long run of zeros ends at once.
    for (const bytes of [new Uint8Array(), Uint8Array.of(0x50, 0x4b, 0x05, 0x06), random, new Uint8Array(1 << 20)]) {
      expect(thrown(() => unzipSync(bytes))).toMatchObject({ code: 13, message: 'invalid zip data' });
    }
  });

  test('checks no CRC-32 and no local header name, as its doc comment says: such damage is read as it is', () => {
    const flipped = edited(savez, (_, bytes) => (bytes[locate(savez, 'softmax.npy').data + 130] ^= 0x10));
    expect(parseNpz(flipped, 'dump.npz').get('softmax')!.data[0]).not.toBe(parseNpz(savez, 'dump.npz').get('softmax')!.data[0]);
    const misplaced = parseNpz(
      edited(savez, (view) => view.setUint32(locate(savez, 'g.npy').entry + 42, 0, true)),
      'dump.npz',
    );
    expect(misplaced.get('g')!.data).toEqual(misplaced.get('x')!.data);
  });

  test(
    'an archive with any byte changed or cut short is read or refused with one InputError line, never a raw error',
    () => {
      const archives = written.map(bytesOf);
      fc.assert(
        fc.property(
          fc.nat(archives.length - 1),
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          fc.integer({ min: 0, max: 255 }),
          fc.boolean(),
          (which, where, byte, cut) => {
            const original = archives[which];
            const at = Math.floor(where * original.length);
            const bytes = cut ? original.subarray(0, at) : edited(original, (_, copy) => (copy[at] = byte));
            try {
              parseNpz(bytes, 'dump.npz');
            } catch (error) {
              expect(error).toBeInstanceOf(InputError);
              expect((error as Error).message).toMatch(/^dump\.npz [^\n]+$/);
            }
          },
        ),
        PROPERTY_OPTIONS,
      );
    },
    propertyTimeout(2),
  );
});
