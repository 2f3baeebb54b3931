"""Runs a command with stdin, stdout and stderr on a pseudo-terminal (120 columns), copies all
it printed to our stdout, and exits with its exit code. For tests of what a terminal shows;
standard library only."""
import errno, fcntl, os, pty, struct, sys, termios

pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    os.execvp(sys.argv[1], sys.argv[1:])

out = bytearray()
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError as error:
        if error.errno == errno.EIO:  # the child closed the terminal
            break
        raise
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(bytes(out))
sys.exit(os.waitstatus_to_exitcode(status))
