/**
 * The client's lines in and text out. When stdin and stdout are both terminals: a prompt with
 * line editing and history (node:readline), and what the server sends meanwhile (responses,
 * notifications) is printed above the line being typed, which is then redrawn as it was. Otherwise
 * (a file, a pipe): plain lines in, bytes out, exactly as before.
 *
 * Lines and text are byte strings (latin1): a key typed in UTF-8 reaches the protocol as its bytes.
 */
import { clearLine, createInterface, cursorTo } from 'node:readline';

export const PROMPT = 'kvs> ';

export interface ClientConsole {
  /** One line at a time; ends at the end of input (Ctrl-D on a terminal). */
  readonly lines: AsyncIterable<string>;
  /** Writes text (whole lines) to stdout, or to stderr, without garbling what is being typed. */
  print(text: string, to?: 'stdout' | 'stderr'): void;
  /** Stops reading and takes the prompt off the screen. Idempotent. */
  close(): void;
}

export interface ConsoleStreams {
  readonly input: NodeJS.ReadableStream & { isTTY?: boolean; setEncoding(encoding: BufferEncoding): unknown };
  readonly output: NodeJS.WritableStream & { isTTY?: boolean };
  readonly errors?: NodeJS.WritableStream;
  /** Ctrl-C at the prompt (readline takes it from the terminal, so no SIGINT is raised). */
  readonly onInterrupt: () => void;
}

export function isInteractive(streams: Pick<ConsoleStreams, 'input' | 'output'>): boolean {
  return streams.input.isTTY === true && streams.output.isTTY === true;
}

export function openConsole(streams: ConsoleStreams): ClientConsole {
  const { input, output } = streams;
  const errors = streams.errors ?? process.stderr;
  const write = (text: string, to: 'stdout' | 'stderr' = 'stdout') => void (to === 'stdout' ? output : errors).write(Buffer.from(text, 'latin1'));
  if (!isInteractive(streams)) {
    input.setEncoding('latin1');
    const lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
    return { lines, print: write, close: () => lines.close() };
  }

  const editor = createInterface({ input, output, prompt: PROMPT, terminal: true, historySize: 200 });
  editor.on('SIGINT', () => {
    // End the prompt's line, so the shell's prompt that follows starts on a line of its own.
    output.write('\n');
    streams.onInterrupt();
  });
  let closed = false;
  editor.once('close', () => {
    closed = true;
  });
  async function* lines(): AsyncGenerator<string> {
    editor.prompt();
    for await (const line of editor) {
      // readline decodes the terminal's UTF-8; the protocol wants the bytes.
      yield Buffer.from(line, 'utf8').toString('latin1');
      if (!closed) editor.prompt();
    }
  }
  return {
    lines: lines(),
    print(text, to) {
      // Erase the prompt line, print above it, then redraw the prompt with what was typed so far.
      clearLine(output, 0);
      cursorTo(output, 0);
      write(text, to);
      if (!closed) editor.prompt(true);
    },
    close() {
      if (closed) return;
      editor.close();
      clearLine(output, 0);
      cursorTo(output, 0);
    },
  };
}
