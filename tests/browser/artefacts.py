"""What browser tests leave behind: full-page screenshots under `$FEDERATION_VAR_DIR/screenshots/`
(var/test/screenshots/ under scripts/test.sh), named after the test, kept after the run."""

from django.conf import settings


def screenshot(page, request, suffix=""):
    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{request.node.name}{suffix}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path
