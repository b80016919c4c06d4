import { unzipSync, type UnzipFileInfo } from 'fflate';
import type { Tensor } from '../tensor.js';
import { InputError } from '../input-error.js';
import { parseNpy } from './npy.js';
import { acceptanceOf } from './array-acceptance.js';
import { printable } from '../output/printable.js';

/**
 * Reads numpy's .npz archives, as np.savez (stored) and np.savez_compressed (deflate) write them:
 * a zip file, ZIP64 or not, whose members are NAME.npy files, each read by parseNpy. The result
 * holds the members in the archive's order, keyed by name without `.npy`; which names the caller
 * needs is the caller's business.
 *
 * The zip container (end record, ZIP64 records, central directory, local headers) and deflate are
 * fflate's unzipSync: a small, widely used library, rather than a zip reader of our own. It is run
 * twice. The first pass extracts nothing: its filter sees each directory entry's name, method and
 * declared sizes, and refuses a member that is not a top-level NAME.npy, a name seen twice, a
 * method other than stored (0) or deflate (8), a stored member whose two sizes differ, and
 * declared sizes over MAX_NPZ_MEMBER_BYTES or, together, MAX_NPZ_TOTAL_BYTES. fflate allocates a
 * deflate member's declared size before inflating it, so the caps are applied to the whole
 * directory before anything is allocated: a small archive cannot make the reader allocate more.
 * The second pass extracts; each member must come out at exactly its declared size (fflate drops
 * whatever a deflate stream yields beyond it, which leaves a cut .npy), and parseNpy then checks
 * its magic, its header, and that its data is exactly shape × itemsize bytes.
 *
 * Not checked: CRC-32. unzipSync neither checks the CRCs nor exposes them, and reading them would
 * mean walking the central directory here a second time. Truncated members and members read from
 * the wrong place are caught, nearly always, by the size check and parseNpy's magic, header and
 * data-size checks; a flipped bit inside a stored float, or inside a deflate stream that still
 * decodes to the declared size, is read as it is. Nor does fflate check the zip signatures, the
 * local header's name or the encryption flag: a directory entry whose offset points at another
 * member's local header reads that member's bytes under its own name, and an encrypted member
 * fails as a member that is not a valid .npy file.
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
  let extracted: Record<string, Uint8Array>;
  try {
    unzipSync(bytes, {
      filter: (file) => {
        const member = checkEntry(file, members.length + 1, label);
        // unzipSync's result is keyed by name: a second member of a name would silently replace the first.
        if (names.has(member.name)) invalid(`member ${member.shown} appears twice`);
        total += member.size;
        if (total > MAX_NPZ_TOTAL_BYTES) {
          throw new InputError(`${label} is too large to read: its members declare more than ${MAX_NPZ_TOTAL_BYTES} bytes uncompressed in all`);
        }
        names.add(member.name);
        members.push(member);
        return false;
      },
    });
    let next = 0;
    extracted = unzipSync(bytes, { filter: () => ((current = members[next++]), true) });
  } catch (error) {
    if (error instanceof InputError) throw error;
    return invalid(describeFailure(error, members.length + 1, current));
  }

  const tensors = new Map<string, Tensor>();
  for (const member of members) {
    const data = extracted[member.name] ?? new Uint8Array();
    if (data.length !== member.size) {
      invalid(
        member.method === STORED
          ? `member ${member.shown}'s data runs past the end of the file (${data.length} of its ${member.size} bytes are there)`
          : `member ${member.shown} inflates to ${data.length} bytes, not the ${member.size} it declares`,
      );
    }
    const name = member.name.slice(0, -'.npy'.length);
    tensors.set(name, parseNpy(data, `${label} member ${member.shown}`, acceptanceOf(name)));
  }
  return tensors;
}

/**
 * The most one member may inflate to: the largest file Node's readFileSync reads (2 GiB − 1), so
 * that a member may be as large as a lone .npy file could be.
 */
export const MAX_NPZ_MEMBER_BYTES = 2 ** 31 - 1;
/** The most all members together may inflate to. */
export const MAX_NPZ_TOTAL_BYTES = 2 ** 32;

interface Member {
  readonly name: string;
  /** The name as messages show it: bare when it is plain, quoted (and cut to 60 characters) otherwise. */
  readonly shown: string;
  readonly method: number;
  /** The declared uncompressed size. */
  readonly size: number;
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

  if (size > MAX_NPZ_MEMBER_BYTES) {
    throw new InputError(`${label} is too large to read: member ${shown} declares ${size} bytes uncompressed, more than the ${MAX_NPZ_MEMBER_BYTES} one member may hold`);
  }
  return { name, shown, method, size };
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
  // fflate inflates into a buffer of the declared size; a stored block that overruns it is a RangeError.
  if (error instanceof RangeError && member?.method === DEFLATE && /out of bounds/.test(message)) {
    return `member ${member.shown} inflates to more than the ${member.size} bytes it declares`;
  }
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
