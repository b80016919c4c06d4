import { Inflate, unzipSync, type UnzipFileInfo } from 'fflate';
import type { Tensor } from '../tensor.js';
import { InputError } from '../input-error.js';
import { parseNpy } from './npy.js';
import { acceptanceOf } from './array-acceptance.js';
import { printable } from '../printable.js';

/**
 * Reads numpy's .npz archives, as np.savez (stored) and np.savez_compressed (deflate) write them:
 * a zip file, ZIP64 or not, whose members are NAME.npy files, each read by parseNpy. The result
 * holds the members in the archive's order, keyed by name without `.npy`; which names the caller
 * needs is the caller's business.
 *
 * The zip container (end record, ZIP64 records, central directory) is read by fflate's unzipSync,
 * a small, widely used library, rather than by a zip reader of our own: its filter sees each
 * directory entry's name, method and declared sizes, extracts nothing, and refuses a member that
 * is not a top-level NAME.npy, a name seen twice, a method other than stored (0) or deflate (8), a
 * stored member whose two sizes differ, and declared sizes over NPZ_INFLATE_BUDGET in all. So a
 * small archive that declares gigabytes (a zip bomb) is refused before anything is inflated.
 *
 * Then each member is extracted from where fflate's walk of the directory puts it (memberDataStarts
 * follows that walk step by step): a stored member is viewed in place; a deflate member is
 * inflated by fflate's streaming Inflate, 16 kB of compressed bytes at a time, into a buffer of its
 * declared size, and stopped as soon as it yields more. Declared sizes can lie: a member that
 * declares 1 kB and inflates to gigabytes costs one chunk's output (at most 1,032 times 16 kB)
 * before it is refused, not the gigabytes. Each member must come out at exactly its declared size,
 * and parseNpy then checks its magic, its header, and that its data is exactly shape × itemsize bytes.
 *
 * Not checked: CRC-32. fflate exposes no CRCs, and reading them would mean reading more of each
 * directory entry here. Truncated members and members read from
 * the wrong place are caught, nearly always, by the size check and parseNpy's magic, header and
 * data-size checks; a flipped bit inside a stored float, or inside a deflate stream that still
 * decodes to the declared size, is read as it is. Nor are the zip signatures, the local header's
 * name or the encryption flag checked (fflate does not either): a directory entry whose offset
 * points at another member's local header reads that member's bytes under its own name, and an
 * encrypted member fails as a member that is not a valid .npy file.
 *
 * Every problem, fflate's own errors (translated from their codes) included, is one InputError
 * line starting with the label.
 */
export function parseNpz(bytes: Uint8Array, label: string): ReadonlyMap<string, Tensor> {
  const invalid = (what: string): never => {
    throw new InputError(`${label} is not a valid .npz archive: ${what}`);
  };
  // Cheap distinctions fflate would all report as `invalid zip data`.
  if (bytes.length === 0) invalid('the file is empty');
  if (startsWith(bytes, NPY_MAGIC)) invalid('it is a .npy file, not a zip archive of them');
  if (!hasEndRecord(bytes)) {
    if (startsWith(bytes, LOCAL_HEADER)) invalid('it is cut short (the zip end-of-central-directory record is missing)');
    invalid('it is not a zip file (no end-of-central-directory record)');
  }

  const members: Member[] = [];
  const names = new Set<string>();
  let total = 0;
  let current: Member | undefined;
  const extracted: Uint8Array[] = [];
  try {
    unzipSync(bytes, {
      filter: (file) => {
        const member = checkEntry(file, members.length + 1, label);
        // Members are keyed by name: a second member of a name would silently replace the first.
        if (names.has(member.name)) invalid(`member ${member.shown} appears twice`);
        total += member.size;
        if (total > NPZ_INFLATE_BUDGET) {
          throw new InputError(
            `${label} is too large to read: its members declare ${total} bytes uncompressed by member ${member.shown}, over the ${NPZ_INFLATE_BUDGET} (1 GiB) an .npz may inflate to`,
          );
        }
        names.add(member.name);
        members.push(member);
        return false;
      },
    });
    const starts = memberDataStarts(bytes, members.length);
    members.forEach((member, k) => {
      current = member;
      const raw = bytes.subarray(starts[k], starts[k] + member.compressedSize);
      extracted.push(member.method === STORED ? raw : inflateMember(raw, member, invalid));
    });
  } catch (error) {
    if (error instanceof InputError) throw error;
    return invalid(describeFailure(error, members.length + 1, current));
  }

  const tensors = new Map<string, Tensor>();
  members.forEach((member, k) => {
    const data = extracted[k];
    if (data.length !== member.size) {
      invalid(
        member.method === STORED
          ? `member ${member.shown}'s data runs past the end of the file (${data.length} of its ${member.size} bytes are there)`
          : `member ${member.shown} inflates to ${data.length} bytes, not the ${member.size} it declares`,
      );
    }
    const name = member.name.slice(0, -'.npy'.length);
    tensors.set(name, parseNpy(data, `${label} member ${member.shown}`, acceptanceOf(name)));
  });
  return tensors;
}

/**
 * The most all members of an archive together may inflate to: 1 GiB, checked against their
 * declared sizes before anything is inflated, and held while inflating (a member stops at its
 * declared size). A dump of 10^7 float64 logits with its four arrays is 320 MB; the tool's own
 * work on 1 GiB of float64 needs some 10 GB.
 */
export const NPZ_INFLATE_BUDGET = 2 ** 30;

/** How much of a deflate stream is inflated at a time: at most 1,032 times as much comes out. */
const INFLATE_CHUNK = 1 << 14;

/**
 * A deflate member's bytes, inflated into a buffer of its declared size by fflate's streaming
 * Inflate, a chunk at a time, and stopped as soon as the stream yields more than it declares.
 * A stream that ends short yields fewer bytes, which the caller reports.
 */
function inflateMember(raw: Uint8Array, member: Member, invalid: (what: string) => never): Uint8Array {
  const out = new Uint8Array(member.size);
  let filled = 0;
  const inflater = new Inflate((chunk) => {
    if (filled + chunk.length > out.length) invalid(`member ${member.shown} inflates to more than the ${member.size} bytes it declares`);
    out.set(chunk, filled);
    filled += chunk.length;
  });
  if (raw.length === 0) inflater.push(raw, true);
  for (let at = 0; at < raw.length; at += INFLATE_CHUNK) inflater.push(raw.subarray(at, at + INFLATE_CHUNK), at + INFLATE_CHUNK >= raw.length);
  return filled === out.length ? out : out.subarray(0, filled);
}

/**
 * Where each of the first `count` members' data starts, by the same walk of the directory as
 * fflate's unzipSync takes (its end-record scan, ZIP64 end records, each entry's ZIP64 extra
 * field, and the local header's name and extra lengths at the entry's offset), so that entry k
 * here is the entry its filter saw as k. Bytes past the end read as 0, as fflate reads them: the
 * directory has been walked by fflate already, and what it accepted is walked here the same way.
 */
function memberDataStarts(bytes: Uint8Array, count: number): number[] {
  const b2 = (at: number): number => (bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8);
  const b4 = (at: number): number => (b2(at) | (b2(at + 2) << 16)) >>> 0;
  const b8 = (at: number): number => b4(at) + b4(at + 4) * 2 ** 32;
  let end = bytes.length - 22;
  while (b4(end) !== 0x06054b50) end--;
  let entry = b4(end + 16);
  let zip64 = b4(end - 20) === 0x07064b50;
  if (zip64) {
    const record = b4(end - 12);
    zip64 = b4(record) === 0x06064b50;
    if (zip64) entry = b4(record + 48);
  }
  const starts: number[] = [];
  for (let k = 0; k < count; k++) {
    const nameLength = b2(entry + 28);
    const extraLength = b2(entry + 30);
    const extra = entry + 46 + nameLength;
    let offset = b4(entry + 42);
    if (zip64 && offset === 0xffffffff) {
      const sizesInExtra = Number(b4(entry + 20) === 0xffffffff) + Number(b4(entry + 24) === 0xffffffff);
      for (let at = extra; at + 4 < extra + extraLength; at += 4 + b2(at + 2)) {
        if (b2(at) === 1) {
          offset = b8(at + 4 + 8 * sizesInExtra);
          break;
        }
      }
    }
    starts.push(offset + 30 + b2(offset + 26) + b2(offset + 28));
    entry = extra + extraLength + b2(entry + 32);
  }
  return starts;
}

interface Member {
  readonly name: string;
  /** The name as messages show it: bare when it is plain, quoted (and cut to 60 characters) otherwise. */
  readonly shown: string;
  readonly method: number;
  /** The declared uncompressed size. */
  readonly size: number;
  /** The declared size in the archive. */
  readonly compressedSize: number;
}

const STORED = 0;
const DEFLATE = 8;
const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const LOCAL_HEADER = [0x50, 0x4b, 0x03, 0x04];

/** Checks one directory entry (numbered from 1) as unzipSync's filter hands it over, before anything is extracted. */
function checkEntry(file: UnzipFileInfo, entry: number, label: string): Member {
  const invalid = (what: string): never => {
    throw new InputError(`${label} is not a valid .npz archive: ${what}`);
  };
  const { name, compression: method, size: compressedSize, originalSize: size } = file;
  const shown = showName(name);
  // fflate reads a directory that lies past the end of the file as zeros: an entry with no name.
  if (name === '') invalid(`its central directory is damaged or lies past the end of the file (entry ${entry} has no name)`);
  if (!name.endsWith('.npy')) invalid(`member ${shown} is not a .npy file (np.savez writes only NAME.npy members)`);
  if (name.includes('/') || name.includes('\\')) invalid(`member ${shown} is inside a folder (np.savez writes NAME.npy members at the top level)`);
  if (method !== STORED && method !== DEFLATE) invalid(`member ${shown} uses compression method ${method}; only stored (0) and deflate (8) are read`);
  if (method === STORED && compressedSize !== size) invalid(`member ${shown} is stored uncompressed, yet its sizes differ (${compressedSize} and ${size} bytes)`);
  return { name, shown, method, size, compressedSize };
}

/**
 * What went wrong, in words, for an error unzipSync threw: fflate's own errors carry a numeric
 * code (FlateErrorCode). `entry` is the directory entry being read, `member` the last member whose
 * extraction began (inflate errors can only come from it).
 */
function describeFailure(error: unknown, entry: number, member: Member | undefined): string {
  const message = error instanceof Error ? error.message.replace(/\s+/g, ' ').slice(0, 200) : String(error);
  const flateCode = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  const code = typeof flateCode === 'number' ? flateCode : undefined;
  const about = member === undefined ? '' : `member ${member.shown} `;
  // 0 to 3 come only from inflating; 13 (invalid zip data), once the end record is known to be
  // there, only from an entry whose 32-bit fields say the value is in a ZIP64 extra field it lacks.
  if (code === 0 && member !== undefined) return `member ${member.shown}'s deflate stream ends too soon (fflate: ${message})`;
  if ((code === 1 || code === 2 || code === 3) && member !== undefined) return `member ${member.shown}'s deflate stream is corrupt (fflate: ${message})`;
  if (code === 13) return `its central directory is damaged (entry ${entry} points to ZIP64 sizes it lacks)`;
  if (code === 14) return `a member uses a compression method other than stored or deflate (fflate: ${message})`;
  if (code !== undefined) return `${about}could not be read (fflate: ${message})`;
  return `${about}could not be read (${error instanceof Error ? `${error.name}: ` : ''}${message})`;
}

/**
 * Whether the end-of-central-directory signature is where unzipSync looks for it, so that its
 * `invalid zip data` means something else: from 22 to 65,559 bytes before the end (the record and
 * the longest comment, and one byte more, as fflate scans), never before the start.
 */
function hasEndRecord(bytes: Uint8Array): boolean {
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 65559); at--) {
    if (bytes[at] === 0x50 && bytes[at + 1] === 0x4b && bytes[at + 2] === 0x05 && bytes[at + 3] === 0x06) return true;
  }
  return false;
}

/** Plain names bare (`x.npy`), anything else quoted, control characters escaped, so that the message stays one line. */
function showName(name: string): string {
  if (/^[\w./-]+$/.test(name) && name.length <= 60) return name;
  // JSON.stringify escapes the C0 controls; printable the rest that would break the line.
  return printable(JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name));
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((byte, k) => bytes[k] === byte);
}
