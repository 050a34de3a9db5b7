"""Runs a command on a pseudo-terminal, types the given lines into it, and prints what the
terminal showed. usage: python3 pty_run.py LINESFILE CMD [ARGS...]. Ends with Ctrl-D."""
import os
import pty
import select
import sys
import time


def main():
    lines = open(sys.argv[1]).read().splitlines()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[2], sys.argv[2:])
    out = bytearray()

    def drain(wait):
        end = time.time() + wait
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    return False
                if not data:
                    return False
                out.extend(data)
        return True

    drain(0.5)
    for line in lines:
        os.write(fd, line.encode() + b"\r")
        drain(0.3)
    os.write(fd, b"\x04")
    deadline = time.time() + 10
    while time.time() < deadline and drain(0.2):
        pass
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace"))
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
