#!/usr/bin/env python3
"""A raw IST-KVS client in another language (stdlib only), to prove the wire format byte for byte.

Usage: raw_client.py <register_fifo> <req_path> <resp_path> <notif_path> [--no-mkfifo]

Unlike runtime/client.js it opens its FIFOs the way the course's C clients do, after sending
connect and with blocking opens: the request FIFO for writing first, then the notification and
response FIFOs for reading. Commands on stdin, one a line; results on stdout, one a line:
  subscribe KEY | unsubscribe KEY | disconnect   -> "response OP RESULT"
  raw HEX                                        -> sends the bytes as they are on the request FIFO
  response                                       -> reads one response: "response OP RESULT" or "eof"
  notif                                          -> reads one notification: "notif KEY VALUE" or "eof"
  close                                          -> closes every FIFO and exits 0
"""
import os
import stat
import sys

CONNECT, DISCONNECT, SUBSCRIBE, UNSUBSCRIBE = 1, 2, 3, 4


def field(text, size):
    data = text.encode("latin1")
    assert len(data) <= size
    return data + b"\0" * (size - len(data))


def read_exactly(fd, n):
    data = b""
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main():
    register, req, resp, notif = sys.argv[1:5]
    if "--no-mkfifo" not in sys.argv:
        for path in (req, resp, notif):
            if os.path.lexists(path):
                os.unlink(path)
            os.mkfifo(path, 0o600)
    connect = bytes([CONNECT]) + field(req, 40) + field(resp, 40) + field(notif, 40)
    reg_fd = os.open(register, os.O_WRONLY)
    assert os.write(reg_fd, connect) == 121
    os.close(reg_fd)
    say("sent connect")

    def is_fifo(path):
        return stat.S_ISFIFO(os.lstat(path).st_mode)

    # The course's order: request, then notification, then response; each open blocks until the
    # server opens its end. Paths that are not FIFOs are not opened at all (the test gave them
    # to see the server refuse them).
    fds = {}
    for name, path, flags in (("req", req, os.O_WRONLY), ("notif", notif, os.O_RDONLY), ("resp", resp, os.O_RDONLY)):
        if is_fifo(path):
            fds[name] = os.open(path, flags)
    say("opened")

    def response():
        data = read_exactly(fds["resp"], 2)
        say("eof" if data is None else "response %d %d" % (data[0], data[1]))

    if "resp" in fds:
        response()

    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        cmd = words[0]
        try:
            if cmd in ("subscribe", "unsubscribe"):
                op = SUBSCRIBE if cmd == "subscribe" else UNSUBSCRIBE
                os.write(fds["req"], bytes([op]) + field(words[1], 41))
                response()
            elif cmd == "disconnect":
                os.write(fds["req"], bytes([DISCONNECT]))
                response()
            elif cmd == "raw":
                os.write(fds["req"], bytes.fromhex(words[1]))
                say("sent")
            elif cmd == "response":
                response()
            elif cmd == "notif":
                data = read_exactly(fds["notif"], 82)
                if data is None:
                    say("eof")
                else:
                    key = data[:41].split(b"\0")[0].decode("latin1")
                    value = data[41:].split(b"\0")[0].decode("latin1")
                    say("notif %s %s" % (key, value))
            elif cmd == "close":
                break
        except BrokenPipeError:
            say("epipe")
    for fd in fds.values():
        os.close(fd)
    say("closed")


if __name__ == "__main__":
    main()
