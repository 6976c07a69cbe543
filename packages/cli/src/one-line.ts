/**
 * Error messages of the CLI are one line (the house rule): scripts grep them and a terminal shows
 * them whole. These helpers flatten text that comes from elsewhere (Node's argument parser, the
 * JSON parser) before it is embedded in a message.
 */

/** Joins the lines of `text` with single spaces. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * Why `text` is not JSON, on one line: JSON.parse's reason with the snippet it quotes kept
 * literal (a newline of the file shows as \n), plus the line and column when the parser gives a
 * position.
 */
export function jsonErrorMessage(error: unknown, text: string): string {
  const reason = (error instanceof Error ? error.message : String(error)).replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  const position = /at position (\d+)/.exec(reason);
  if (!position) return reason;
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${reason} (line ${line}, column ${column})`;
}
