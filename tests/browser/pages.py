"""What the browser tests share: logging in, the page checks every visited page passes, and screenshots.

`check(page, url)`: no critical or serious axe-core violation, and at 390 px the page is no wider than the
viewport. `screenshot(page, request)`: a full-page PNG in `$FEDERATION_VAR_DIR/screenshots/<test name>.png`,
kept after the run as the test's artefact.
"""

from django.conf import settings

from .audit import DESKTOP, PHONE, problems

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's
__all__ = ["DESKTOP", "PASSWORD", "PHONE", "check", "log_in", "screenshot"]


def log_in(page, base, username):
    page.set_viewport_size(DESKTOP)
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_load_state("load")


def screenshot(page, request, suffix=""):
    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{request.node.name}{suffix}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def check(page, url):
    """Open `url`, then: no critical or serious axe-core violation, and no wider than a phone at 390 px."""
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("load")
    assert problems(page) == [], url
