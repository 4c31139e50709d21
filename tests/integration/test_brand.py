"""The partnership's own brand: its name and the service's in the header; no crown, GOV.UK logotype,
Crown copyright or GDS Transport in any page or stylesheet; a footer leading, signed in or not, to
the accessibility statement and the privacy notice."""

from __future__ import annotations

import re

import pytest

from casework.db import db
from tests.conftest import Page
from tests.factories import AgencyFactory

GOVUK_ONLY = re.compile(r"crown|crest|logotype|govuk-logo|govuk-header|govuk-footer|GDS Transport|@font-face|"
                        r"/assets/", re.IGNORECASE)


def _header(page: Page) -> tuple[str, str]:
    partnership = page.select_one("header .app-header__partnership").get_text(strip=True)
    service = page.select_one("header .govuk-service-navigation__service-name").get_text(strip=True)
    return partnership, service


def test_the_header_names_the_partnership_from_the_setting_and_the_service(client, app_ctx, monkeypatch):
    assert _header(Page(client.get("/sign-in"))) == ("Dorset Community Safety Partnership", "Casework")
    monkeypatch.setitem(app_ctx.config, "PARTNERSHIP_NAME", "Wessex Community Safety Partnership")
    page = Page(client.get("/sign-in"))
    assert _header(page) == ("Wessex Community Safety Partnership", "Casework")
    assert "Casework is run by Wessex Community Safety Partnership" in page.select_one("footer").get_text()


@pytest.mark.parametrize("url", ["/", "/people", "/privacy", "/accessibility", "/sign-out"])
def test_no_page_carries_the_crown_the_govuk_logotype_or_crown_copyright(caseworker_client, client, url):
    for who in (caseworker_client, client):
        response = who.get(url)
        if response.status_code == 302:  # signed out: the sign-in page it leads to
            response = who.get(response.headers["Location"])
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert not GOVUK_ONLY.findall(html), (url, GOVUK_ONLY.findall(html))
        for href in Page(response).select("link[href]"):
            assert not href["href"].startswith("/assets/")


def test_the_stylesheet_is_govuk_frontend_built_without_govuk_brand_assets(client):
    page = Page(client.get("/sign-in"))
    sheets = [link["href"] for link in page.select("link[rel=stylesheet]") if not link.get("media")]
    assert sheets[0].endswith("/static/build/main.css")
    for href in sheets:
        response = client.get(href)
        assert response.status_code == 200, href
        css = response.get_data(as_text=True)
        assert not GOVUK_ONLY.findall(css), (href, set(GOVUK_ONLY.findall(css)))
        assert "url(" not in css, href  # no fonts or images from anywhere
    built = client.get(sheets[0]).get_data(as_text=True)
    assert ".govuk-generic-header" in built and ".govuk-service-navigation" in built and ".app-footer" in built
    assert "font-family:-apple-system,BlinkMacSystemFont" in built.replace(", ", ",")
    assert client.get("/assets/fonts/bold-b542beb274-v2.woff2").status_code == 404
    assert client.get("/assets/images/govuk-crest.svg").status_code == 404


def test_the_footer_leads_to_the_accessibility_statement_and_privacy_notice_signed_out(client):
    sign_in = Page(client.get("/sign-in"))
    links = {a.get_text(strip=True): a["href"] for a in sign_in.select("footer a")}
    assert set(links) == {"Accessibility statement", "Privacy notice"}
    statement = Page(client.get(links["Accessibility statement"]))
    assert statement.status_code == 200 and statement.h1 == "Accessibility statement for Casework"
    headings = [h.get_text(strip=True) for h in statement.select("h2, h3, h4")]
    for heading in ("How accessible this service is", "Feedback and contact information",
                    "Reporting accessibility problems with this service", "Enforcement procedure",
                    "Compliance status", "Non-accessible content", "Disproportionate burden",
                    "Preparation of this accessibility statement"):
        assert heading in headings, heading
    assert "Dorset Community Safety Partnership is committed" in statement.text
    assert "Public Sector Bodies (Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018" in statement.text
    notice = Page(client.get(links["Privacy notice"]))
    assert notice.status_code == 200 and notice.h1 == "Privacy notice"
    for words in ("article 6(1)(e)", "article 9(2)(g)", "article 10", "Schedule 1", "Who sees it",
                  "How long we keep it", "Your rights", "Information Commissioner", "joint controllers"):
        assert words in notice.text, words


def test_the_privacy_notice_names_the_active_agencies_and_the_configured_retention(client, app_ctx, monkeypatch):
    AgencyFactory(name="Dorset Police Privacy")
    AgencyFactory(name="Left The Partnership Housing", active=False)
    db.session.flush()
    monkeypatch.setitem(app_ctx.config, "RETENTION", {"person": {"inactive_years": 7},
                                                      "case": {"closed_inactive_years": 1}, "incident": None})
    monkeypatch.setitem(app_ctx.config, "CONTACT_EMAIL", "dpo@csp.example.org")
    page = Page(client.get("/privacy"))
    partners = page.select_one("#partners").get_text()
    assert "Dorset Police Privacy" in partners and "Left The Partnership Housing" not in partners
    periods = [li.get_text(" ", strip=True) for li in page.select("#retention-periods li")]
    assert "for 7 years and they have no open case" in periods[0]
    assert "erased 1 year after the case was closed" in periods[1]
    assert "Incidents are not erased after a fixed time" in periods[2]
    assert "applications for an area are not erased after a fixed time" in periods[3]
    assert page.select_one("#contact a[href='mailto:dpo@csp.example.org']") is None  # the link follows the heading
    assert "mailto:dpo@csp.example.org" in str(page.select_one("main"))
