/** The program's own lines on stderr. */
import { escapeControls } from '../../protocol/keys.js';

/** One line on stderr. Lines can quote what clients sent: control characters are escaped. */
export function report(line: string): void {
  process.stderr.write(`kvs: ${escapeControls(line)}\n`);
}
