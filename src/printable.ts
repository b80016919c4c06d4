/**
 * Text from a file or a user (a dump's source, a fixture's name, a path, a value quoted in an
 * error) as a terminal, a CI log or a report may safely show it, on one line: every character that
 * would act rather than show is written as \uXXXX.
 *
 * - C0 and C1 control characters, DEL: CR and LF would end the line (a name could start one that
 *   reads "PASS", or a workflow command under GitHub Actions), ESC starts terminal escape sequences.
 * - U+2028 and U+2029, which some viewers break lines at.
 * - The bidirectional controls (Unicode's Bidi_Control: U+061C, U+200E, U+200F, U+202A–U+202E,
 *   U+2066–U+2069): invisible, they reorder the text after them on the line as a terminal or
 *   GitHub's log viewer shows it ("Trojan Source", CVE-2021-42574), so that a name could be read
 *   as another, or a FAIL line's figures appear in another order. Escaped, the reader sees what the
 *   file holds.
 *
 * A backslash is left as it is: the escape can be confused with the same six characters written
 * in the file, but never acts.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
