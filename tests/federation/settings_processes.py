"""Settings as a fresh process sees them: the environment of a production start, and running Python in it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def production_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_", "OIDC_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": "p7-Zk!vQ2^mLr8#Xa0@tW4$eNc6&yHb1*Ju9(Fs3)Gd5_Ko-Ti+Pq=Vw%Rx",
            "ALLOWED_HOSTS": "federation.example.org",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **extra,
        }
    )
    return env


def run(args, env):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
