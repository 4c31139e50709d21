"""Screenshots of each main page at 320 and 1280 CSS pixels wide, to check the pages by eye (not a
test: pytest does not collect this file, and its output folder is git-ignored).

Against a running Casework with the demo data (`make run`, or `casework demo` then `casework run`):

    .venv/bin/python tests/browser/screenshots.py --base-url http://127.0.0.1:5000

It signs in as the demo users (setting up their authenticator from the key on the page the first
time, as a new user does), opens each page the way a user reaches it, and writes
tests/browser/screenshots/<user>-<page>-<width>.png (the whole page). It prints each page's
document width at 320 pixels and exits with 1 if any page is wider than the screen.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from casework import crypto

CHROMIUM = "/usr/bin/chromium"
OUT = Path(__file__).resolve().parent / "screenshots"
PASSWORD = "demo-casework-2025"
WIDTHS = (320, 1280)
_last_step: dict[str, int] = {}


def _code(secret: str) -> str:
    """A code no earlier sign-in used: each step's code works once."""
    step = max(int(time.time()) // 30, _last_step.get(secret, -1) + 1)
    _last_step[secret] = step
    wait = step * 30 - 29 - time.time()  # the server accepts one step ahead, no more
    if wait > 0:
        time.sleep(wait)
    return crypto.totp_now(secret, at=dt.datetime.fromtimestamp(step * 30, dt.UTC))


def sign_in(page: Page, email: str, secrets: dict[str, str]) -> None:
    page.goto("/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_load_state()
    if "set-up-authenticator" in page.url or page.locator("#totp-secret").count():
        secrets[email] = page.inner_text("#totp-secret").replace(" ", "")
        page.fill("#code", _code(secrets[email]))
        page.click("button:has-text('Continue')")
        page.wait_for_load_state()
        if page.locator("#recovery-codes").count():
            page.click("a:has-text('Continue')")
            page.wait_for_load_state()
        if "/sign-in" in page.url:  # the set-up did not sign the user in: sign in as on any other day
            sign_in(page, email, secrets)
        return
    if email not in secrets:
        raise SystemExit(f"{email} has an authenticator already: give its key with --secret {email}=KEY "
                         "(or reset it from the Users page)")
    page.fill("#code", _code(secrets[email]))
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state()
    if "/sign-in" in page.url:
        raise SystemExit(f"{email} could not sign in: {page.inner_text('main')[:200]}")


class NoSuchLink(Exception):
    pass


def _first(selector: str) -> Callable[[Page], None]:
    def follow(page: Page) -> None:
        link = page.locator(selector).first
        if not link.count():
            raise NoSuchLink(f"no {selector} on {page.url}")
        link.click()
        page.wait_for_load_state()

    return follow


def _search(surname: str) -> Callable[[Page], None]:
    def search(page: Page) -> None:
        page.fill("#surname", surname)
        page.click("main button:has-text('Search')")
        page.wait_for_load_state()

    return search


# (name, address to start from, then what the user does there)
JOURNEYS: dict[str, list[tuple[str, str, Callable[[Page], None] | None]]] = {
    "public": [("sign-in", "/sign-in", None), ("accessibility", "/accessibility", None),
               ("privacy", "/privacy", None)],
    "caseworker": [
        ("home", "/", None), ("people-search", "/people", _search("Smith")),
        ("person", "/people", lambda p: (_search("Smith")(p), _first("main tbody a[href^='/people/']")(p))),
        ("incidents", "/incidents", None), ("incident", "/incidents", _first("main tbody a")),
        ("new-incident", "/incidents/new", None), ("cases", "/cases", None),
        ("case", "/cases", _first("main tbody a")), ("referrals", "/referrals", None),
        ("referral", "/referrals", _first("main tbody a")), ("account", "/account", None),
    ],
    "chair": [
        ("home", "/", None), ("hrda-queue", "/hrda/referrals", None),
        ("hrda-review", "/hrda/referrals", _first("#queue tbody a")), ("meetings", "/meetings", None),
        ("meeting", "/meetings", _first("main tbody a")), ("agenda", "/meetings", lambda p: (
            _first("main tbody a")(p), p.goto(p.url.split("?")[0] + "/agenda"))),
        ("hrda-actions", "/hrda/actions", None), ("hrda-figures", "/hrda/figures", None),
    ],
    "manager": [
        ("home", "/", None), ("measures", "/measures", None),
        ("measure", "/measures", _first("#measure-ASB1 th a")),
        ("records", "/measures", lambda p: (_first("#measure-ASB1 th a")(p), _first("[data-figure=current] a")(p))),
    ],
    "admin": [("users", "/admin/users", None), ("agencies", "/admin/agencies", None), ("audit", "/audit", None),
              ("jobs", "/admin/jobs", None)],
}
USERS = {"caseworker": "caseworker@demo.casework.test", "chair": "chair@demo.casework.test",
         "manager": "manager@demo.casework.test", "admin": "admin@demo.casework.test"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:5000")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--secret", action="append", default=[], metavar="EMAIL=KEY",
                        help="the authenticator key of a demo user already set up")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    # The demo users' authenticator keys, kept beside the screenshots for the next run.
    kept = args.out / "demo-secrets.json"
    secrets = json.loads(kept.read_text()) if kept.exists() else {}
    secrets.update(s.split("=", 1) for s in args.secret)
    too_wide = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for who, pages in JOURNEYS.items():
            context = browser.new_context(base_url=args.base_url, viewport={"width": 1280, "height": 900})
            page = context.new_page()
            if who in USERS:
                sign_in(page, USERS[who], secrets)
                kept.write_text(json.dumps(secrets))
            for name, start, then in pages:
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 900})
                    page.goto(start)
                    try:
                        if then:
                            then(page)
                    except NoSuchLink as missing:
                        print(f"{who:10} {name:15} skipped: {missing}")
                        break
                    page.wait_for_load_state("networkidle")
                    scroll_width = page.evaluate("document.documentElement.scrollWidth")
                    page.screenshot(path=str(args.out / f"{who}-{name}-{width}.png"), full_page=True)
                    if width == 320:
                        flag = "" if scroll_width <= 320 else "  TOO WIDE"
                        print(f"{who:10} {name:15} {page.url[len(args.base_url):]:60} {scroll_width}{flag}")
                        if flag:
                            too_wide.append(f"{who} {name}")
            context.close()
        browser.close()
    print(f"Screenshots in {args.out}")
    return 1 if too_wide else 0


if __name__ == "__main__":
    sys.exit(main())
