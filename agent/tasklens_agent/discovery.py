"""The discovery file that lets `tasklens ps PID` find an agent: 0600 in a 0700 directory."""
import json
import os
import tempfile

from .protocol import PROTOCOL_VERSION


def directory():
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "tasklens")
    return os.path.join(tempfile.gettempdir(), "tasklens-%d" % os.getuid())


def write(host, port, token, python, program):
    folder = directory()
    os.makedirs(folder, mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    path = os.path.join(folder, "%d.json" % os.getpid())
    data = {"pid": os.getpid(), "host": host, "port": port, "token": token,
            "python": python, "program": program, "protocol": PROTOCOL_VERSION}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    return path


def remove(path, pid):
    """Remove the file only from the process that wrote it (not from a forked child)."""
    if os.getpid() == pid:
        try:
            os.unlink(path)
        except OSError:
            pass
