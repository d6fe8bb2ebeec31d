"""nncli report: one self-contained HTML page per run or sweep, checked as text and in a real browser."""

from __future__ import annotations

import base64
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import nncli
from nncli.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
XOR = ROOT / "configs/tutorial/03-xor-hidden-layer.yaml"
SINE = ROOT / "configs/tutorial/06-sine.yaml"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


class Page(HTMLParser):
    """Every tag with its attributes, the text, and the section ids (the page's structure)."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag):
        return [a for t, a in self.tags if t == tag]

    @property
    def sections(self):
        return [a["id"] for a in self.all("section")]


def assert_self_contained(page: Page):
    """Nothing the browser would fetch: every src is a data: URI, every href an in-page anchor, no
    external stylesheet, script or font."""
    for tag, attrs in page.tags:
        for key in ("src", "srcset", "poster", "data"):
            if key in attrs:
                assert attrs[key].startswith("data:"), (tag, key, attrs[key][:60])
        if "href" in attrs:
            assert attrs["href"].startswith("#"), (tag, attrs["href"])
        assert not (tag == "script" and "src" in attrs)
        assert tag not in ("link", "iframe", "object", "embed", "base")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    xor = nncli.train(XOR, out=base / "xor", overrides=["training.epochs=40", "training.snapshots=4"]).path
    sine = nncli.train(SINE, out=base / "sine", overrides=["training.epochs=4", "training.snapshots=null"]).path
    return {"xor": xor, "sine": sine}


@pytest.fixture(scope="module")
def xor_report(runs):
    res = invoke("report", runs["xor"])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"wrote {runs['xor'] / 'report.html'}"
    return runs["xor"] / "report.html"


def test_run_report_has_every_section_as_text_and_inline_pictures(xor_report):
    text = xor_report.read_text(encoding="utf-8")
    page = Page(text)
    assert page.sections == ["summary", "network", "curves", "final", "evolution", "evaluation", "config", "provenance"]
    assert_self_contained(page)
    assert not page.all("script")  # a run's page needs no script
    assert any(a.get("name") == "viewport" for a in page.all("meta"))
    images = page.all("img")
    kinds = [re.match(r"data:image/(\w+);base64,", a["src"]).group(1) for a in images]
    assert kinds == ["png", "png", "png", "gif", "png"]  # network, curves, final, animation, grid
    for a in images:
        raw = base64.b64decode(a["src"].split(",", 1)[1], validate=True)
        assert raw[:4] in (b"\x89PNG", b"GIF8") and a["alt"]
    words = " ".join(page.text)
    # real text: config, metrics, the evaluation tables and provenance can be searched and copied
    for needle in ("name: tutorial-03-xor-hidden-layer", "snapshots: 4", "Confusion matrix", "Per class",
                   "macro F1", "seed", "training.snapshots=4", "numpy (training)", "train loss", "epochs run / configured"):
        assert needle in words, needle
    assert "The run holds out no validation or test data" in words
    assert len(text) < 1_500_000


def test_regression_report_has_the_fit_and_no_evolution_without_snapshots(runs):
    res = invoke("report", runs["sine"])
    assert res.exit_code == 0, res.output
    page = Page((runs["sine"] / "report.html").read_text(encoding="utf-8"))
    assert page.sections == ["summary", "network", "curves", "final", "evaluation", "config", "provenance"]
    words = " ".join(page.text)
    assert "Final fit" in words and "Validation data (200 rows)" in words and "R²" in words
    assert_self_contained(page)


def test_report_on_a_missing_directory_is_a_usage_error(tmp_path):
    res = invoke("report", tmp_path / "nope")
    assert res.exit_code == 2 and "no such run directory" in res.output
    assert len(res.output.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("sweep")
    spec = {"name": "xor-lr", "base": str(XOR), "grid": {"training.optimizer.learning_rate": [0.01, 0.05, 0.2]},
            "workers": 1, "overrides": ["training.epochs=15"], "metric": "train_loss"}
    (base / "sweep.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    res = invoke("sweep", base / "sweep.yaml", "--out", base / "out", "--quiet")
    assert res.exit_code == 0, res.output
    res = invoke("report", base / "out")
    assert res.exit_code == 0, res.output
    return base / "out"


def test_sweep_report_has_a_sortable_results_table_and_the_best_curves(sweep_dir):
    import json

    page = Page((sweep_dir / "report.html").read_text(encoding="utf-8"))
    assert page.sections[:2] == ["results", "best"]
    assert_self_contained(page)
    assert [a.get("class") for a in page.all("table")][0] == "sortable"
    best = json.loads((sweep_dir / "best.json").read_text())["trial"]
    rows = [a for a in page.all("tr") if a.get("class") == "best"]
    assert len(rows) == 1
    words = " ".join(page.text)
    assert f"Best trial: {best}" in words and "train_loss" in words
    assert len(page.all("img")) == 1 and len(page.all("script")) == 1


# ---------------------------------------------------------------- in a real browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install "
                                                                "chromium); .ci/run installs it")


@pytest.fixture(scope="module")
def browser():
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from _chromium import Browser

    b = Browser(CHROMIUM)
    yield b
    b.close()


def _shots_dir(tmp_path: Path) -> Path:
    """Screenshots go to $NNCLI_SCREENSHOTS when set (to look at them), else the test's tmp folder."""
    where = Path(os.environ.get("NNCLI_SCREENSHOTS") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return where


@needs_chromium
def test_run_report_renders_in_chromium_without_errors_or_requests(xor_report, browser, tmp_path):
    shots = _shots_dir(tmp_path)
    browser.events.clear()
    for width in (1280, 390):
        browser.open(xor_report.as_uri(), width)
        assert browser.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
        assert browser.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
        assert browser.evaluate("document.images.length") == 5
        assert browser.evaluate("document.querySelectorAll('section').length") == 8
        widest = browser.evaluate("Math.max(...Array.from(document.images).map(i => i.getBoundingClientRect().right))")
        assert widest <= width
        browser.screenshot(shots / f"report-{width}.png")
        assert (shots / f"report-{width}.png").read_bytes()[:4] == b"\x89PNG"
    assert browser.problems() == []
    left = [u for u in browser.requests() if not u.startswith(("file://", "data:"))]
    assert left == [], left
    files = [u for u in browser.requests() if u.startswith("file://")]
    assert files == [xor_report.as_uri()] * 2  # the page itself, once per width, nothing else


@needs_chromium
def test_sweep_report_sorts_in_chromium(sweep_dir, browser, tmp_path):
    browser.events.clear()
    browser.open((sweep_dir / "report.html").as_uri(), 1280)
    col = browser.evaluate("Array.from(document.querySelectorAll('table.sortable th')).findIndex(th => "
                           "th.textContent === 'training.optimizer.learning_rate')")
    assert col >= 0
    read = ("Array.from(document.querySelectorAll('table.sortable tbody tr')).map(r => "
            f"parseFloat(r.cells[{col}].getAttribute('data-v')))")
    browser.evaluate(f"document.querySelectorAll('table.sortable th')[{col}].click()")
    assert browser.evaluate(read) == [0.01, 0.05, 0.2]
    browser.evaluate(f"document.querySelectorAll('table.sortable th')[{col}].click()")
    assert browser.evaluate(read) == [0.2, 0.05, 0.01]
    browser.screenshot(_shots_dir(tmp_path) / "sweep-report-1280.png")
    assert browser.problems() == []
    assert [u for u in browser.requests() if not u.startswith(("file://", "data:"))] == []


def test_report_without_matplotlib_says_how_to_install(runs, monkeypatch):
    import sys

    for mod in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    before = sorted(p.name for p in runs["sine"].iterdir())
    res = invoke("report", runs["sine"])
    assert res.exit_code == 2
    assert res.output.strip() == "nncli report needs matplotlib, which is not installed: pip install 'matplotlib>=3.6'"
    assert sorted(p.name for p in runs["sine"].iterdir()) == before


def test_a_report_that_cannot_be_written_is_one_line(runs, monkeypatch):
    import nncli.run.files as files

    def refuse(path, text):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files, "write_text_atomic", refuse)
    res = invoke("report", runs["sine"])
    assert res.exit_code == 2
    assert res.output.strip() == (f"{runs['sine'] / 'report.html'}: cannot write (Permission denied); check the "
                                  f"run directory's permissions and free space")
