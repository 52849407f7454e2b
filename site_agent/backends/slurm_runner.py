"""The one way the slurm backend runs Slurm's commands, and the parsing of what they print.

Every command goes through `SlurmRunner.run`, so that the timeout, the machine-readable output
flags, the dry-run mode and the reading of Slurm's idempotent answers live in one place.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shlex
import subprocess
from collections.abc import Sequence

from site_agent.backends.base import BackendError

logger = logging.getLogger(__name__)

# Commands whose output the backend parses: ask for '|'-separated fields without a header.
_PARSABLE_COMMANDS = {"sacct", "sshare", "sacctmgr"}
# sacctmgr answers a repeated add or remove with these (exit code 1): the outcome is already in place.
_ALREADY_DONE = ("Nothing new added", "Nothing deleted", "already exists")
# sacctmgr prints some errors and still exits 0: a bad unit in a limit, but also complaints about
# slurm.conf that every command repeats. The backend only sends limits it computed, so these are
# logged rather than failing the order.
_ERROR_LINE = re.compile(r"^.*\berror:.*$", re.IGNORECASE | re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class CommandResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    ok: bool = True  # the outcome asked for is in place ("Nothing new added" counts)

    @property
    def message(self) -> str:
        """What Slurm said, stderr first, on one line."""
        text = " ".join(part.strip() for part in (self.stderr, self.stdout) if part.strip())
        return " ".join(text.split())

    def error(self) -> BackendError:
        return BackendError(f"{shlex.join(self.args)} failed: {self.message or f'exit {self.returncode}'}")

    def rows(self) -> list[list[str]]:
        """The stdout of a --parsable2 command, one list of fields per non-empty line."""
        return [line.split("|") for line in self.stdout.splitlines() if line.strip()]


class SlurmRunner:
    """Runs Slurm's commands with a timeout; in dry-run mode it logs them and runs nothing."""

    def __init__(self, *, timeout: float = 60.0, dry_run: bool = False, bin_dir: str = ""):
        self.timeout = timeout
        self.dry_run = dry_run
        self.bin_dir = bin_dir
        # What dry-run mode would have run, for the operator's log and for tests.
        self.planned: list[tuple[str, ...]] = []

    def command_line(self, args: Sequence[str]) -> tuple[str, ...]:
        """The full argument vector for `args`, with the flags every call of that command needs."""
        if not args:
            raise ValueError("no command given")
        name, rest = args[0], list(args[1:])
        flags: list[str] = []
        if name == "sacctmgr" and not {"-i", "--immediate"} & set(rest):
            flags.append("--immediate")
        if name in _PARSABLE_COMMANDS:
            if not {"-P", "--parsable2"} & set(rest):
                flags.append("--parsable2")
            if not {"-n", "--noheader"} & set(rest):
                flags.append("--noheader")
        program = os.path.join(self.bin_dir, name) if self.bin_dir else name
        return (program, *flags, *rest)

    def run(self, args: Sequence[str], *, check: bool = True) -> CommandResult:
        """Run one command; with check, a failure raises BackendError carrying Slurm's message.

        sacctmgr's "Nothing new added" and "Nothing deleted" count as success: the state asked
        for is already there, which is what makes every backend step safe to repeat.
        """
        argv = self.command_line(args)
        printable = shlex.join(argv)
        if self.dry_run:
            logger.info("slurm dry-run: %s", printable)
            self.planned.append(argv)
            return CommandResult(argv, 0, "", "")
        logger.debug("slurm: %s", printable)
        try:
            completed = subprocess.run(
                argv, capture_output=True, text=True, timeout=self.timeout, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired as exc:
            raise BackendError(f"{printable}: no answer within {self.timeout:g} s") from exc
        except OSError as exc:
            raise BackendError(f"{printable}: cannot run: {exc}") from exc
        ok = self._succeeded(args[0], completed)
        result = CommandResult(argv, completed.returncode, completed.stdout, completed.stderr, ok)
        if not ok and check:
            raise result.error()
        if not ok:
            logger.debug("slurm: %s failed: %s", printable, result.message)
        elif completed.returncode == 0:
            for line in _ERROR_LINE.findall(completed.stderr):
                logger.warning("slurm: %s: %s", args[0], line.strip())
        return result

    @staticmethod
    def _succeeded(name: str, completed: subprocess.CompletedProcess) -> bool:
        if name != "sacctmgr":
            return completed.returncode == 0
        if any(marker in completed.stdout or marker in completed.stderr for marker in _ALREADY_DONE):
            return True
        return completed.returncode == 0


_MEMORY_UNITS = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024**2, "P": 1024**3}


def parse_tres(text: str) -> dict[str, float]:
    """'cpu=2,mem=500M,gres/gpu=1' -> {'cpu': 2, 'mem': 500, 'gres/gpu': 1}; memory in MB."""
    values: dict[str, float] = {}
    for item in text.split(","):
        name, sep, raw = item.strip().partition("=")
        if not sep or not raw:
            continue
        unit = raw[-1].upper()
        if unit in _MEMORY_UNITS:
            number, factor = raw[:-1], _MEMORY_UNITS[unit]
        else:
            number, factor = raw, 1
        try:
            values[name] = float(number) * factor
        except ValueError:
            logger.warning("slurm: cannot read TRES value %r", item)
    return values


def format_tres(values: dict[str, int]) -> str:
    """{'cpu': 60000} -> 'cpu=60000', in a stable order."""
    return ",".join(f"{name}={value}" for name, value in sorted(values.items()))
