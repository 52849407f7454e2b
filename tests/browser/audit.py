"""The checks every portal page passes in the browser: no critical or serious axe-core violation, and no
wider than a phone (390 px) — the page scrolls vertically only."""

from axe_playwright_python.sync_playwright import Axe

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
BLOCKING = ("critical", "serious")

_axe = Axe()


def problems(page) -> list:
    """What is wrong with the page open in `page` (an empty list when nothing is): axe-core's critical and
    serious violations with their first targets, then the document's width at 390 px when it is wider."""
    response = _axe.run(page).response
    assert response["testEngine"]["name"] == "axe-core"
    found = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in response["violations"]
        if v["impact"] in BLOCKING
    ]
    page.set_viewport_size(PHONE)
    try:
        width = page.evaluate("document.documentElement.scrollWidth")
    finally:
        page.set_viewport_size(DESKTOP)
    if width > PHONE["width"]:
        found.append(("wider-than-phone", f"{width}px", []))
    return found
