/**
 * Debug traces, off unless asked for: `KVS_DEBUG=links` (topics separated by commas) writes one
 * stderr line per event in the life of a client's FIFOs in this process: each FIFO descriptor
 * opened and closed, with its number and path, and each session link's steps (taken, answered,
 * joined or not, gone, closing). Enough to tell, from the server's side, which descriptor a link
 * left open and why. Off, a trace costs one boolean test.
 */
const topics = new Set((process.env['KVS_DEBUG'] ?? '').split(',').map((topic) => topic.trim()));

export const TRACE_LINKS = topics.has('links');

/** Call as `if (TRACE_LINKS) traceLink(...)`, so that nothing is built when it is off. */
export function traceLink(text: string): void {
  process.stderr.write(`kvs-debug[${process.pid}] ${text}\n`);
}
