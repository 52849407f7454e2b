"""The layout holds: the import rules (import-linter contracts in pyproject.toml), and the Docker image and
compose file follow the packages as they are (no Docker engine is needed to check either)."""

import importlib
import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from setuptools import find_packages

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    # The packages of `cwd`, not the installed ones, are analysed: cwd comes first on the path.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- import rules --------------------------------------------------------------------------------


def test_import_contracts_are_kept():
    contracts = PYPROJECT["tool"]["importlinter"]["contracts"]
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout


def _copy_of_the_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / "pyproject.toml", tree)
    for package in PYPROJECT["tool"]["importlinter"]["root_packages"]:
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tree


LAYERS = (
    "Layers: config > (portal | apel) > (providers | notifications | webhooks | waldur_provider) > accounting"
    " > marketplace > federation > events > common"
)


@pytest.mark.parametrize(
    ("module", "wrong_import", "contracts"),
    [
        (
            "marketplace/selectors.py",
            "import providers.models",
            {"The marketplace never imports providers", LAYERS},
        ),
        ("federation/selectors.py", "import marketplace.models", {LAYERS}),
        ("common/validation.py", "import federation.models", {LAYERS}),
        ("events/services.py", "import federation.models", {LAYERS}),
        ("webhooks/apps.py", "import notifications.apps", {LAYERS}),
        ("protocol/__init__.py", "import django.conf", {"protocol imports no Django and nothing of ours"}),
        ("site_agent/__init__.py", "import common.validation", {"site_agent imports only protocol among ours"}),
    ],
)
def test_a_wrong_import_breaks_its_contract(tmp_path, module, wrong_import, contracts):
    tree = _copy_of_the_tree(tmp_path)
    assert lint_imports(tree).returncode == 0  # the copy is as clean as the tree
    with (tree / module).open("a") as fh:
        fh.write(f"\n{wrong_import}  # a deliberate breach\n")
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = {line.removesuffix(" BROKEN") for line in result.stdout.splitlines() if line.endswith(" BROKEN")}
    assert broken == contracts, result.stdout
    importer = module.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    imported = wrong_import.split()[1]  # an outside package is named by its top level only (django)
    line = rf"{re.escape(importer)} -> ({re.escape(imported)}|{re.escape(imported.split('.')[0])}) \(l\.\d+\)"
    assert re.search(line, result.stdout), result.stdout


# --- the Docker image and compose -----------------------------------------------------------------


def installed_packages() -> set[str]:
    """The top-level packages `pip install .` installs (pyproject's [tool.setuptools.packages.find])."""
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    return {name.split(".")[0] for name in find_packages(where=str(ROOT), include=include)}


def dockerfile_copies() -> dict[str, str]:
    """Source → destination (relative to WORKDIR /app) of the Dockerfile's COPY lines."""
    copies = {}
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        words = line.split()
        if not words or words[0] != "COPY":
            continue
        *sources, destination = [w for w in words[1:] if not w.startswith("--")]
        for source in sources:
            target = destination.rstrip("/") + "/" + source if destination.endswith("/") else destination
            copies[source.rstrip("/")] = str(Path(target))
    return copies


def test_the_installed_packages_are_the_layout():
    assert installed_packages() == {
        "config",
        "common",
        "portal",
        "apel",
        "federation",
        "marketplace",
        "accounting",
        "providers",
        "events",
        "notifications",
        "webhooks",
        "waldur_provider",
        "protocol",
        "site_agent",
    }


def test_the_image_copies_every_installed_package():
    copies = dockerfile_copies()
    missing = {package for package in installed_packages() if copies.get(package) != package}
    assert not missing, f"the Dockerfile copies no {sorted(missing)} to /app (pip install . would skip them)"
    for needed in ("pyproject.toml", "manage.py", "templates"):
        assert copies.get(needed) == needed
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert not ignored & (installed_packages() | {"templates", "manage.py", "pyproject.toml"})


def commands() -> list[tuple[str, list[str]]]:
    """Every command the image and compose run: (where, argv)."""
    found = []
    cmd = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M)
    found.append(("Dockerfile CMD", yaml.safe_load(cmd.group(1))))
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        command = service.get("command")
        if command:
            found.append((f"{name}: command", command if isinstance(command, list) else shlex.split(command)))
        test = (service.get("healthcheck") or {}).get("test")
        if test and test[0] == "CMD-SHELL":
            found.append((f"{name}: healthcheck", shlex.split(test[1].replace("$$", "$"))))
        elif test:
            found.append((f"{name}: healthcheck", test[1:]))
    return found


def named_modules(argv: list[str]) -> list[str]:
    """The Python modules a command names: gunicorn's app, celery's -A, python -m, manage.py."""
    modules = []
    for i, word in enumerate(argv):
        following = argv[i + 1] if i + 1 < len(argv) else ""
        if word == "gunicorn":
            modules.append(following.split(":")[0])
        elif word in ("-A", "--app") or (word == "-m" and argv[i - 1].startswith("python")):
            modules.append(following)
        elif word == "manage.py":
            modules.append("manage")
    return modules


def test_compose_and_the_image_name_modules_that_exist():
    checked = []
    for where, argv in commands():
        for module in named_modules(argv):
            if module == "manage":
                assert (ROOT / "manage.py").is_file(), where
            else:
                assert importlib.util.find_spec(module) is not None, f"{where} names {module}, which does not exist"
            checked.append((where, module))
    wanted = {"config.wsgi", "config", "site_agent", "manage"}
    assert wanted <= {module for _, module in checked}, checked


def test_the_named_apps_are_what_the_commands_want():
    """gunicorn's module has a WSGI `application`; celery's -A package has a Celery app."""
    from celery import Celery

    for _, argv in commands():
        for i, word in enumerate(argv[:-1]):
            if word == "gunicorn":
                module, _, attribute = argv[i + 1].partition(":")
                assert callable(getattr(importlib.import_module(module), attribute or "application"))
            elif word in ("-A", "--app"):
                package = importlib.import_module(argv[i + 1])
                assert any(isinstance(value, Celery) for value in vars(package).values()), argv


# --- one list serializer --------------------------------------------------------------------------


def test_every_model_serializer_lists_with_the_fast_list_serializer():
    from rest_framework import serializers

    from common.api.serializers import ReadListSerializer

    for app in ("federation", "marketplace", "accounting", "providers", "events", "webhooks", "waldur_provider"):
        importlib.import_module(f"{app}.api.serializers")

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [
        cls
        for cls in subclasses(serializers.ModelSerializer)
        if cls.__module__.split(".")[0]
        in {
            "federation",
            "marketplace",
            "accounting",
            "providers",
            "events",
            "webhooks",
            "waldur_provider",
            "notifications",
            "portal",
        }
    ]
    assert len(ours) >= 10
    slow = [cls.__qualname__ for cls in ours if cls.many_init().__class__ is not ReadListSerializer]
    assert not slow, f"these list rows with DRF's ListSerializer: {slow}"


# --- the portal composes pages from selectors -----------------------------------------------------


def test_templates_walk_no_relations():
    """A page's rows come from a selector in its view (visible rows, known queries), not from a template
    following a relation (`project.resources.all`)."""
    walks = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\b\w+\.\w+\.(all|filter|exclude|count)\b|_set\b", line)
    ]
    assert not walks, walks
