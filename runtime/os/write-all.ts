/** The write-all loop: `writeSync` may take fewer bytes than given, so write until all are taken. */
import { writeSync } from 'node:fs';

export function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off);
}
