/**
 * The most text an input document may hold: V8's limit on a string's length (2^29 − 24 code
 * units). A larger document could not even be held as one string; arrays that large belong in
 * .npy files.
 */
export const MAX_TEXT_BYTES = 2 ** 29 - 24;

/** What is wrong with a document of this many bytes (`holds more than …` when not known). */
export function textSizeProblem(size: number | undefined): string {
  const what = size === undefined ? `holds more than ${formatBytes(MAX_TEXT_BYTES)}` : `is ${formatBytes(size)}`;
  return `${what}: text input is limited to ${formatBytes(MAX_TEXT_BYTES)} (a JavaScript string's limit); give arrays this large as .npy files`;
}

function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}
