"""Shared by the loopback helper servers of the specs (fault_server.py, drop_proxy.py)."""
import os
import socket
import ssl
import struct


def write_atomically(path, text):
    """Writes text to path through a rename, so a reader never sees half of it."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def rst_close(sock):
    """Closes with an RST instead of a FIN."""
    try:
        raw = sock.unwrap() if isinstance(sock, ssl.SSLSocket) else sock
    except (OSError, ValueError):
        raw = sock
    try:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    raw.close()
