"""The HTML report: written by ``solve --report`` and ``optimiser report``, self-contained,
escaped, and checked in a real headless Chromium: no console errors, no network requests, and
its maps draw every council of a UK plan."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from browser import Page, find_chromium
from optimiser.cli import main
from optimiser.io.instance import load_instance

UK = ("uk-2023", "--functions", "ict,waste-collection", "--max-size", "2")
ODD_NAME = """Babergh <b>&"Co"'s</b>"""


def cli(*args) -> int:
    return main([str(a) for a in args])


@pytest.fixture(scope="module")
def uk_run(tmp_path_factory):
    """A UK plan of two functions (one with counties and their districts), pairs only so it solves in seconds."""
    out = tmp_path_factory.mktemp("uk") / "plan"
    assert cli("solve", *UK, "--report", "--out", out, "--quiet") == 0
    return out


@pytest.fixture(scope="module")
def odd_run(tmp_path_factory):
    """Suffolk with a council whose name holds markup, an ampersand and both quotes."""
    inst = tmp_path_factory.mktemp("odd") / "suffolk-2023"
    shutil.copytree(load_instance("suffolk-2023").folder, inst)
    councils = inst / "councils.csv"
    text = councils.read_text(encoding="utf-8")
    councils.write_text(text.replace(",Babergh,", ',"Babergh <b>&""Co""\'s</b>",'), encoding="utf-8")
    assert load_instance(inst).councils["name"].iloc[0] == ODD_NAME
    out = inst.parent / "plan"
    assert cli("solve", inst, "--functions", "legal,ict", "--report", "--out", out, "--quiet") == 0
    return inst, out


@pytest.fixture(scope="module")
def chromium():
    found = find_chromium()
    if found is None:
        pytest.skip("no Chromium to test the report in: set CHROMIUM, or install it (apt-get install -y chromium); "
                    "looked for chromium, chromium-browser, google-chrome, chrome on PATH and in the usual install places")
    return found


def test_solve_report_and_report_command_write_the_same_page(uk_run, tmp_path):
    page = uk_run / "report.html"
    assert page.is_file()
    again = tmp_path / "again.html"
    assert cli("report", uk_run / "plan.json", "--out", again, "--quiet") == 0
    assert again.read_bytes() == page.read_bytes()


def test_page_is_self_contained(uk_run):
    html = (uk_run / "report.html").read_text(encoding="utf-8")
    for outside in ("http://", "https://", "//cdn", "<link", "src="):
        assert outside not in html, outside
    assert "Contains public sector information licensed under the Open Government Licence v3.0." in html


def test_names_are_escaped_in_the_source(odd_run):
    _, out = odd_run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert ODD_NAME not in html and "<b>&" not in html
    assert "Babergh &lt;b&gt;&amp;&quot;Co&quot;&#x27;s&lt;/b&gt;" in html
    data = html.split('<script type="application/json" id="plan-data">')[1].split("</script>")[0]
    assert "<" not in data and json.loads(data)["councils"]["E07000200"]["name"] == ODD_NAME


def test_report_bad_input_exits_2(uk_run, tmp_path, capsys):
    assert cli("report", tmp_path / "missing.json") == 2
    assert "missing.json" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{}")
    assert cli("report", tmp_path / "bad.json", "--out", tmp_path / "r.html") == 2
    assert "bad.json" in capsys.readouterr().err and not (tmp_path / "r.html").exists()
    assert cli("report", uk_run / "plan.json") == 2  # report.html is already there
    assert "--force" in capsys.readouterr().err
    assert cli("solve", "suffolk-2023", "--functions", "legal", "--report") == 2
    assert "--report" in capsys.readouterr().err
    assert cli("report", uk_run / "plan.json", "--out", tmp_path) == 2  # a folder, not a file
    assert "is a folder" in capsys.readouterr().err
    assert cli("report", uk_run / "plan.json", "--out", tmp_path / "x.html", "--instance", "suffolk-2023") == 2
    assert "not 'suffolk-2023'" in capsys.readouterr().err and not (tmp_path / "x.html").exists()


# ---------------------------------------------------------------- in a real browser

DRAWN = """
(() => {
  const found = {};
  for (const figure of document.querySelectorAll("figure.fmap")) {
    const codes = [];
    for (const use of figure.querySelectorAll("svg.map use.c")) {
      const box = use.getBBox();
      const seen = use.getBoundingClientRect();
      if (box.width > 0 && box.height > 0 && seen.width > 0) codes.push(use.dataset.code);
    }
    found[figure.dataset.function] = codes;
  }
  return found;
})()
"""


def test_uk_report_in_chromium(uk_run, chromium, tmp_path_factory):
    plan = json.loads((uk_run / "plan.json").read_text(encoding="utf-8"))
    with Page(chromium) as page:
        page.open(uk_run / "report.html")
        assert page.errors() == []
        assert page.requests() == [(uk_run / "report.html").resolve().as_uri()]
        drawn = page.evaluate(DRAWN)
        for function in ("ict", "waste-collection"):
            eligible = {c["code"] for c in plan["councils"] if c["function"] == function}
            assert sorted(drawn[function]) == sorted(eligible), function
        assert len(drawn["ict"]) == 382  # every council of the UK takes part in ICT
        # a click on a council names it and its partnership in the panel beside the map
        text = page.evaluate("""(() => { const u = document.querySelector('#fn-ict svg.map use.c[data-p]:not([data-p=""])');
            u.dispatchEvent(new MouseEvent('click', {bubbles: true}));
            return [u.dataset.p, document.querySelector('#fn-ict .info').textContent]; })()""")
        assert text[0] in text[1]
        folder = Path(os.environ.get("OPTIMISER_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
        page.call("Runtime.evaluate", {"expression": "document.getElementById('fn-ict').scrollIntoView()"})
        page.screenshot(folder / "uk-ict-map.png", full_page=False)
        assert (folder / "uk-ict-map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert page.errors() == []


def test_odd_names_render_as_text_in_chromium(odd_run, chromium):
    _, out = odd_run
    with Page(chromium) as page:
        page.open(out / "report.html")
        assert page.errors() == []
        heading = page.evaluate("document.querySelector('#council-E07000200 h3').textContent")
        assert heading == f"What this plan means for {ODD_NAME}"
        assert page.evaluate("[...document.querySelectorAll('b')].some(b => b.textContent.includes('Co'))") is False
        assert page.evaluate("document.querySelector('#find option[value=E07000200]').textContent") == ODD_NAME


def test_the_browser_check_sees_errors_and_requests(chromium, tmp_path):
    """The two checks above can fail: a page that logs an error and asks the network is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png">'
                   '<script>console.error("broken"); undefinedFunction();</script></body></html>')
    with Page(chromium) as page:
        page.open(bad)
        errors = page.errors()
        assert any("broken" in e for e in errors) and any("undefinedFunction" in e for e in errors)
        assert "http://127.0.0.1:9/x.png" in page.requests()


def test_shares_risk_and_today_in_the_page():
    """Under Shapley shares: every member's three splits and transfer, each partnership's
    withdrawal figures, and the instance's existing arrangements valued beside the plan."""
    from optimiser import solve
    from optimiser.io.model import load_model
    from optimiser.report.page import plan_report, today_evaluation
    from optimiser.report.text import money

    instance = load_instance("suffolk-2023")
    model = load_model("uk-central")
    plan = solve(instance, functions="legal,ict", shares="shapley")
    today = today_evaluation(plan, instance, model)
    html = plan_report(plan, instance, model, today=today)
    shares = html.split('<section id="shares">')[1].split("</section>")[0]
    for p in plan.partnerships:
        for c in p.members:
            row = next(r for r in plan.councils if r.code == c and r.partnership == p.id)
            cells = [money(p.shares[rule][c], "£") for rule in ("proportional", "shapley", "nucleolus")] + [money(row.transfer, "£")]
            assert "".join(f"<td class=n>{cell}</td>" for cell in cells) in shares
    risk = html.split('<section id="risk">')[1].split("</section>")[0]
    for p in plan.partnerships:
        assert f"<td>{p.id}</td>" in risk and money(p.expected_npv, "£") in risk
    existing = html.split('<section id="today">')[1].split("</section>")[0]
    assert {g["id"] for g in today.groups} == {g.id for g in instance.partnerships if g.function in ("legal", "ict")}
    for g in today.groups:
        assert f"<td>{g['id']}</td>" in existing and money(g["npv"], "£") in existing


def test_finance_in_the_page():
    """With a loan: what is borrowed, each member's hardest year against its headroom, and each
    council's section says its share is borrowed; paid in cash, the page says so."""
    from optimiser import solve
    from optimiser.io.model import load_model
    from optimiser.report.page import plan_report
    from optimiser.report.text import money

    instance = load_instance("suffolk-2023")
    model = load_model("uk-central")
    plan = solve(instance, functions="legal,ict", loan="0.045:10")
    html = plan_report(plan, instance, model)
    finance = html.split('<section id="finance">')[1].split("</section>")[0]
    assert f"Borrow {money(plan.finance['borrowed'], '£')}" in finance and "4.5%" in finance
    names = dict(zip(instance.councils["code"], instance.councils["name"]))
    for code, c in plan.finance["councils"].items():
        assert f"<td>{names[code]}</td><td>{c['worst_year']}</td><td class=n>{money(c['net_cash'], '£')}</td>" in finance
    councils = html.split('<section id="councils">')[1].split("</section>")[0]
    assert "Its share of the one-off cost is borrowed" in councils
    cash = plan_report(solve(instance, functions="legal,ict"), instance, model)
    assert "paid up front in year 0" in cash.split('<section id="finance">')[1].split("</section>")[0]
