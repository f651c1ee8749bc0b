"""The web console in a real headless Chromium (Debian's package) against a real uvicorn."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import aiready
from aiready.service import keys
from aiready.service.app import create_app
from tests.feedback.test_corrections import correction
from tests.retrieval.test_retrieval import make
from tests.serving import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[aiready.Workspace, str]]:
    import os

    os.environ["AIREADY_MLFLOW__ENABLED"] = "false"
    ws = make(tmp_path_factory.mktemp("console"), n=10)
    (ws.root / "data/docs_bad.csv").write_text(
        "doc_id,region,topic,title,body,author_email\nx1,,t,a,b,c@example.com\n"
    )
    ws.ingest()
    ws.refine()
    with serving(create_app(ws)) as url:
        yield ws, url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def signed_in(browser: Any, ws: aiready.Workspace, url: str, who: str, purpose: str) -> Any:
    key, _ = keys.create(ws.paths, who)
    page = browser.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(f"{url}/")
    assert page.url.endswith("/ui/login")
    page.fill("input[name=key]", key)
    page.fill("input[name=purpose]", purpose)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/ui")
    return page


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_catalog_shows_only_what_policy_allows(served: Any, browser: Any) -> None:
    ws, url = served
    alice = signed_in(browser, ws, url, "alice", "support")
    names = alice.locator("#catalog td:first-child a").all_inner_texts()
    assert sorted(names) == ["docs", "kb"]
    alice.click("#catalog a:text-is('kb')")
    alice.wait_for_url(f"{url}/ui/datasets/kb")
    assert alice.locator("#schema").is_visible()
    assert "gold.kb" in alice.inner_text("#lineage") or "silver.docs" in alice.inner_text(
        "#lineage"
    )
    shot(alice, "dataset-kb")
    assert alice.errors == []

    eve = signed_in(browser, ws, url, "eve", "support")
    assert eve.locator("#catalog td:first-child a").count() == 0
    shot(eve, "catalog-eve")
    forbidden = eve.goto(f"{url}/ui/datasets/kb")
    assert forbidden is not None and forbidden.status == 403
    assert eve.goto(f"{url}/ui/quarantine/docs").status == 403


def test_quarantine_review_changes_the_table(served: Any, browser: Any) -> None:
    ws, url = served
    sam = signed_in(browser, ws, url, "sam", "support")
    sam.goto(f"{url}/ui/quarantine/docs")
    row = sam.locator("#quarantine tr", has_text="open")
    assert row.count() == 1
    shot(sam, "quarantine-before")
    row.locator("button.reject").click()
    sam.wait_for_url("**/ui/quarantine/docs?message=*")
    assert sam.locator("#quarantine tr", has_text="rejected").count() == 1
    [stored] = ws.quarantine("docs", status="rejected")
    assert stored["_reviewed_by"] == "sam"
    shot(sam, "quarantine-after")
    assert sam.errors == []
    alice = signed_in(browser, ws, url, "alice", "support")  # may retrieve, not read raw rows
    assert alice.goto(f"{url}/ui/quarantine/docs").status == 403


def test_feedback_review_accepts_a_correction(served: Any, browser: Any) -> None:
    ws, url = served
    stored = ws.add_feedback(correction(record_key="d3", proposed_value="Fixed title"), "alice")
    sam = signed_in(browser, ws, url, "sam", "support")
    sam.goto(f"{url}/ui/feedback")
    assert sam.locator("#corrections tr", has_text="Fixed title").count() == 1
    sam.locator("#corrections tr", has_text="Fixed title").locator("button.accept").click()
    sam.wait_for_url("**/ui/feedback?message=accepted")
    assert sam.locator("#corrections tr", has_text="Fixed title").count() == 0
    row = next(r for r in ws.feedback.rows("correction") if r["id"] == stored.id)
    assert row["status"] == "accepted" and row["reviewed_by"] == "sam"
    sam.goto(f"{url}/ui/score")
    assert sam.locator("#scorecard tr").count() >= 3
    shot(sam, "scorecard")
    assert sam.errors == []


def test_wrong_key_and_forged_forms_are_refused(served: Any, browser: Any) -> None:
    ws, url = served
    page = browser.new_page()
    page.goto(f"{url}/ui/login")
    page.fill("input[name=key]", "ark_nope_nope")
    page.fill("input[name=purpose]", "support")
    page.click("button[type=submit]")
    assert "wrong key" in page.inner_text(".error")
    sam = signed_in(browser, ws, url, "sam", "support")
    cookies = {c["name"]: c["value"] for c in sam.context.cookies()}
    forged = httpx.post(
        f"{url}/ui/quarantine/docs/replay", data={"csrf": "forged"}, cookies=cookies
    )
    assert forged.status_code == 403


def test_lineage_tree_shows_a_hostile_file_name_as_text(
    tmp_path: Path, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.security.test_html_escaping import ESCAPED, HOSTILE_FILE, TAG

    monkeypatch.setenv("AIREADY_MLFLOW__ENABLED", "false")
    ws = make(tmp_path / "ws", n=6)
    (ws.root / "data" / HOSTILE_FILE).write_text(
        "doc_id,region,topic,title,body,author_email\nh1,EU,t,a,b,c@example.com\n"
    )
    assert ws.run().passed
    with serving(create_app(ws)) as url:
        alice = signed_in(browser, ws, url, "alice", "support")
        dialogs: list[str] = []
        alice.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        alice.goto(f"{url}/ui/datasets/kb")
        assert HOSTILE_FILE in alice.inner_text("#lineage")  # shown, as text
        assert alice.locator("#lineage script").count() == 0
        assert dialogs == [] and alice.errors == []
        raw = alice.context.request.get(f"{url}/ui/datasets/kb").text()  # the session's cookie
        assert TAG not in raw and ESCAPED in raw
