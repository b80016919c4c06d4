import { resolve } from 'node:path';
import { documentFromArrays } from '../input/array-dump.js';
import { InputError, withInputLabel } from '../input-error.js';
import { parseInputDocument, type InputDocument } from '../input/input-document.js';
import type { Tensor } from '../tensor.js';
import type { Surroundings } from './surroundings.js';
import { readFailure } from './read-failure.js';
import { readInputFile } from './read-input-file.js';
import { readBinaryFile } from './read-bounded.js';

type NpyBeside = (documentPath: string, relativePath: string, field: string) => Tensor;

/**
 * `--input PATH`: a .npz archive or a safetensors file by its extension, otherwise a JSON document
 * (a file, or stdin for `-`). Relative paths are the working directory's. Every
 * error is prefixed with the path, as given.
 */
export async function readInput(path: string, npyBeside: NpyBeside, io: Surroundings): Promise<{ doc: InputDocument; label: string }> {
  if (/\.npz$/i.test(path)) {
    const { parseNpz } = await import('../input/npz.js');
    // The readers name the file in their own messages; what the arrays lack is prefixed here.
    const arrays = parseNpz(readBinary(path, io.cwd), path);
    return { label: path, doc: withInputLabel(path, () => documentFromArrays({ arrays, itemKind: 'member' })) };
  }
  if (/\.safetensors$/i.test(path)) {
    const { parseSafetensors } = await import('../input/safetensors.js');
    const file = parseSafetensors(readBinary(path, io.cwd), path);
    return { label: path, doc: withInputLabel(path, () => documentFromArrays({ arrays: file.tensors, metadata: file.metadata, itemKind: 'tensor' })) };
  }
  const { text, label } = await readInputFile(path, io);
  const binary = binaryKind(text);
  if (binary !== undefined) {
    const how = path === '-' ? 'dumps are read from files, not stdin' : BINARY_HINT[binary];
    throw new InputError(`--input ${label} holds ${binary}, not JSON: ${how}`);
  }
  const loadNpy = path === '-' ? undefined : (relativePath: string, field: string) => npyBeside(path, relativePath, field);
  return { label, doc: withInputLabel(label, () => parseInputDocument(text, { loadNpy })) };
}

type BinaryKind = 'a zip archive' | 'a .npy file' | 'a safetensors file';

const BINARY_HINT: Readonly<Record<BinaryKind, string>> = {
  'a zip archive': 'name a np.savez archive *.npz (torch.save files are not read; save the tensors with safetensors or np.savez)',
  'a .npy file': 'give it with --x or --g, or save x and g together with np.savez as *.npz',
  'a safetensors file': 'name it *.safetensors',
};

/**
 * What a binary dump given where JSON was expected is, from its first bytes as UTF-8 text
 * decoded them (invalid bytes as U+FFFD), so that the error can say what to do instead of
 * pointing at an unexpected character.
 */
function binaryKind(text: string): BinaryKind | undefined {
  if (text.startsWith('PK\u0003\u0004')) return 'a zip archive';
  if (text.startsWith('\uFFFDNUMPY')) return 'a .npy file';
  // An 8-byte little-endian header size (with zero bytes in it) and then the JSON header's '{'.
  if (text.charAt(8) === '{' && text.slice(0, 8).includes('\u0000')) return 'a safetensors file';
  return undefined;
}

/** An .npz or safetensors file: as large as a .npy file may be (the .npz's inflated members have a budget of their own). */
function readBinary(path: string, cwd: string): Uint8Array {
  try {
    return readBinaryFile(resolve(cwd, path));
  } catch (error) {
    throw new InputError(`cannot read --input ${path}: ${readFailure(error)}`);
  }
}
