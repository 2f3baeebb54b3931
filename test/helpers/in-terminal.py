"""Runs a command with stdin, stdout and stderr on a pseudo-terminal (120 columns, or
$PTY_COLUMNS), types keys
into it when it has printed given text, copies what it prints to our stdout as it comes, and exits
with its exit code. For tests of what a terminal shows; standard library only.

    python3 in-terminal.py [--when SEEN TEXT]... -- COMMAND [ARG]...

TEXT is typed once SEEN has been printed after what the previous --when waited for (in order);
Python escapes are decoded in both (\\n, \\x04 ...).
"""
import errno, fcntl, os, pty, struct, sys, termios

args = sys.argv[1:]
keys = []
decode = lambda text: text.encode("latin1").decode("unicode_escape").encode("latin1")
while args and args[0] == "--when":
    keys.append((decode(args[1]), decode(args[2])))
    args = args[3:]
if args and args[0] == "--":
    args = args[1:]

pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, int(os.environ.get("PTY_COLUMNS", "120")), 0, 0))
    os.execvp(args[0], args)

out = bytearray()
seen_up_to = 0
while True:
    while keys:
        at = out.find(keys[0][0], seen_up_to)
        if at < 0:
            break
        seen_up_to = at + len(keys[0][0])
        os.write(fd, keys.pop(0)[1])
    try:
        chunk = os.read(fd, 65536)
    except OSError as error:
        if error.errno == errno.EIO:  # the child closed the terminal
            break
        raise
    if not chunk:
        break
    out += chunk
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
