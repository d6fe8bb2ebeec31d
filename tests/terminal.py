"""Run a command in a pseudo-terminal of a given width, as a user's shell would, and read what it
drew. Shared by the tests that check output meant for a terminal (the live progress, stdin notes)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def run_in_pty(args: list[str], columns: int, cwd=None, send: bytes | None = None, interrupt_when: str | None = None,
               timeout: float = 120) -> tuple[int, str]:
    """`python -m nncli ARGS` with stdin, stdout and stderr on a terminal ``columns`` wide.

    ``send`` is typed into the terminal once started; ``interrupt_when``: SIGINT as soon as this text
    has been drawn. Returns (exit code, everything drawn, escape codes included)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = dict(os.environ, COLUMNS=str(columns), LINES="40", TERM="xterm-256color")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    for k in ("NNCLI_DEBUG", "NO_COLOR", "FORCE_COLOR", "CI", "GITHUB_ACTIONS"):
        env.pop(k, None)
    proc = subprocess.Popen([sys.executable, "-m", "nncli", *map(str, args)], stdin=slave, stdout=slave,
                            stderr=slave, cwd=cwd, env=env, close_fds=True)
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    sent = interrupted = False
    try:
        while True:
            if send is not None and not sent:
                time.sleep(0.5)
                os.write(master, send)
                sent = True
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    data = b""
                if not data and proc.poll() is not None:
                    break
                out += data
            elif proc.poll() is not None:
                break
            if (interrupt_when and not interrupted
                    and interrupt_when in ANSI.sub("", out.decode("utf-8", errors="replace"))):
                proc.send_signal(signal.SIGINT)
                interrupted = True
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"timed out; drawn so far: {out.decode(errors='replace')[-2000:]}")
    finally:
        os.close(master)
    return proc.wait(), out.decode("utf-8", errors="replace")


def screen_lines(drawn: str) -> list[str]:
    """Every line as drawn, escape codes removed (each repaint gives its own lines)."""
    text = ANSI.sub("", drawn)
    return [seg for line in text.replace("\r\n", "\n").split("\n") for seg in line.split("\r") if seg.strip()]


def final_screen(drawn: str, columns: int, rows: int = 40) -> list[str]:
    """The terminal's final content, from a small emulator of what Rich and print emit: text, CR,
    LF, cursor up (ESC[nA), erase line (ESC[2K / ESC[K) and show/hide cursor."""
    screen: list[list[str]] = [[]]
    row = col = 0
    i = 0
    while i < len(drawn):
        ch = drawn[i]
        if ch == "\x1b":
            m = ANSI.match(drawn, i)
            if m:
                code = m.group(0)
                if code.endswith("A"):
                    n = int(code[2:-1] or 1)
                    row = max(0, row - n)
                elif code.endswith("K"):
                    screen[row] = screen[row][:col] if code in ("\x1b[K", "\x1b[0K") else []
                i = m.end()
                continue
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row += 1
            col = 0
            while len(screen) <= row:
                screen.append([])
        else:
            if col >= columns:  # the terminal wraps
                row += 1
                col = 0
                while len(screen) <= row:
                    screen.append([])
            line = screen[row]
            while len(line) < col:
                line.append(" ")
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
        i += 1
    return ["".join(l).rstrip() for l in screen if "".join(l).strip()]
