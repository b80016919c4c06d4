/**
 * Text from a file (a dump's source, a fixture's name) as a terminal may safely show it: control
 * characters, line and paragraph separators escaped as \uXXXX, so that a source cannot start a
 * line of its own that reads "PASS", or send escape sequences to the terminal.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
