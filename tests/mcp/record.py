"""Sits between an MCP client and `vault mcp` and records every byte of
the JSON-RPC stream, both directions, in files beside each other:
LOG.in (client to server) and LOG.out (server to client); the server's
stderr goes to LOG.err.

usage: record.py LOG COMMAND [ARGS...]

When the client closes stdin, the server's stdin is closed; the proxy
exits with the server's status once the server has ended. Raw file
descriptors throughout: no buffered stream is left locked by a thread
at exit.
"""

import os
import subprocess
import sys
import threading


def pump(source, sink, log):
    while True:
        chunk = os.read(source, 65536)
        if not chunk:
            break
        os.write(log, chunk)
        try:
            while chunk:
                chunk = chunk[os.write(sink, chunk):]
        except BrokenPipeError:
            break
    os.close(sink)


def main():
    log = sys.argv[1]
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    to_server = os.open(log + ".in", flags, 0o600)
    to_client = os.open(log + ".out", flags, 0o600)
    with open(log + ".err", "wb") as err:
        server = subprocess.Popen(
            sys.argv[2:], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err
        )
        up = threading.Thread(
            target=pump, args=(0, server.stdin.fileno(), to_server), daemon=True
        )
        up.start()
        pump(server.stdout.fileno(), 1, to_client)
        code = server.wait()
    os._exit(code)


main()
