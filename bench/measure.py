"""What the bench scripts measure besides time: the process's memory and the machine's load."""

import contextlib
import resource
from pathlib import Path


def status_kb(field: str) -> int:
    """A field of /proc/self/status in kB (VmRSS, VmHWM); the peak RSS from getrusage where there is no /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak_rss() -> int:
    """The process's RSS now (kB), with the kernel's peak (VmHWM) reset to it where Linux allows."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return status_kb("VmRSS")


def load_text(load: tuple[float, float, float]) -> str:
    """A load average (1, 5, 15 min) as printed: "0.52 0.61 0.70"."""
    return " ".join(f"{value:.2f}" for value in load)
