/**
 * stdout or stderr closed under a running program (`kvs ... 2>&1 | head`, a log reader that died).
 * Node's default is to throw EPIPE from the stream, which killed a batch run with its `.out` files
 * cut short and a server without removing its FIFO.
 */

/**
 * For the kvs program: what would be written to the closed stream is dropped and the run goes
 * on. A worker thread's stderr is piped into ours and a worker waits for its lines to be taken:
 * the pipe that a failed destination unpipes is kept flowing, into nothing.
 */
export function dropWritesOnceClosed(stream: NodeJS.WriteStream): void {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (closed) return;
    if (error.code !== 'EPIPE') throw error;
    closed = true;
    stream.write = ((_chunk: unknown, encoding?: unknown, callback?: unknown) => {
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    }) as typeof stream.write;
  });
  // Readable.pipe unpipes a source before the destination's own 'error' listeners run.
  stream.on('unpipe', (source: NodeJS.ReadableStream) => process.nextTick(() => closed && source.resume()));
}

/** For the client, whose output is the point: closed, the client ends at once, as `| head` expects. */
export function exitOnceClosed(stream: NodeJS.WriteStream, exit: () => void): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    exit();
  });
}
