import { constants, deflateRawSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { InputError } from '../../src/input-error.js';
import { NPZ_INFLATE_BUDGET, parseNpz } from '../../src/input/npz.js';
import { concat, zerosStream, zip } from '../helpers/zip-writer.js';

const MiB = 1 << 20;

describe('an .npz zip bomb', () => {
  test('the test builds a real bomb: 16 MiB of zeros in about 16 kB, which zlib inflates back', async () => {
    const { inflateRawSync } = await import('node:zlib');
    const stream = zerosStream(16);
    expect(stream.length).toBeLessThan(25_000);
    const back = inflateRawSync(stream);
    expect(back.length).toBe(16 * MiB);
    expect(back.every((byte) => byte === 0)).toBe(true);
  });

  test('that declares what it inflates to (2 GiB from 2 MB) is refused before anything is inflated', () => {
    // Its stream is corrupt after the first MiB: were anything inflated, that would be the error.
    const raw = concat([zerosStream(1).subarray(0, -2), new Uint8Array(8).fill(0xff), zerosStream(2047)]);
    const archive = zip([{ name: 'x.npy', data: new Uint8Array(), method: 8, raw, size: 2 * 1024 * MiB }]);
    expect(archive.length).toBeLessThan(3 * MiB);
    expect(() => parseNpz(archive, 'bomb.npz')).toThrow(
      new InputError(`bomb.npz is too large to read: its members declare 2147483648 bytes uncompressed by member x.npy, over the ${NPZ_INFLATE_BUDGET} (1 GiB) an .npz may inflate to`),
    );
  });

  test('that declares 1 kB and inflates to 2 GiB is stopped at its first chunk, in bounded memory', () => {
    // 64 MiB of zeros (64 kB of stream), then a corrupt block: a reader that went on past the
    // declared size would inflate the 64 MiB and then report the corruption, not the size.
    const raw = concat([zerosStream(64).subarray(0, -2), new Uint8Array(8).fill(0xff), zerosStream(1984)]);
    const archive = zip([
      { name: 'g.npy', data: new Uint8Array(), method: 8, raw: zerosStream(1), size: MiB },
      { name: 'x.npy', data: new Uint8Array(), method: 8, raw, size: 1000 },
    ]);
    expect(() => parseNpz(archive, 'bomb.npz')).toThrow(new InputError('bomb.npz is not a valid .npz archive: member x.npy inflates to more than the 1000 bytes it declares'));
    const honest = zip([{ name: 'x.npy', data: new Uint8Array(), method: 8, raw, size: 64 * MiB + 1 }]);
    expect(() => parseNpz(honest, 'bomb.npz')).toThrow(new InputError("bomb.npz is not a valid .npz archive: member x.npy's deflate stream is corrupt (fflate: invalid block type)"));
  });

  test('within the budget, an honest member of zeros is read whole', () => {
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (131072,), }";
    const padded = header.padEnd(118 - 1, ' ') + '\n';
    const npyHeader = concat([Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, padded.length, 0), new TextEncoder().encode(padded)]);
    const raw = concat([deflateRawSync(npyHeader, { finishFlush: constants.Z_SYNC_FLUSH }), zerosStream(1)]);
    const tensors = parseNpz(zip([{ name: 'x.npy', data: new Uint8Array(), method: 8, raw, size: 128 + MiB }]), 'zeros.npz');
    expect(tensors.get('x')!.shape).toEqual([131072]);
    expect(tensors.get('x')!.data.every((v) => v === 0)).toBe(true);
  });
});
