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


def bench_environment(database: str, *, prefix: str, hosts: str = "127.0.0.1,localhost") -> None:
    """Settings of a bench run in os.environ, before Django starts: its own PostgreSQL database on
    127.0.0.1, production mode without HTTPS redirects, quiet logs, and a var dir of its own."""
    import os
    import tempfile

    os.environ.update(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "SECRET_KEY": "bench-secret-key-bench-secret-key-bench-secret-key-0123456789",
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": hosts,
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    os.environ.setdefault("FEDERATION_VAR_DIR", tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
