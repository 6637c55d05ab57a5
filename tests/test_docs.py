"""The documentation builds without a warning, and its code examples print what the pages say.

The HTML build is the one ``make docs`` runs (warnings are errors); the doctest build runs every
``testcode`` block of the guides and compares its output with the ``testoutput`` block below it.
"""

import pathlib
import re
import subprocess
import sys

import agentax.agents.mab

ROOT = pathlib.Path(__file__).resolve().parent.parent


def sphinx_build(builder: str, tmp_path: pathlib.Path) -> pathlib.Path:
    out = tmp_path / builder
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        builder,
        "-d",
        str(tmp_path / "doctrees"),
        str(ROOT / "docs"),
        str(out),
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, (
        f"sphinx-build -b {builder} failed:\n{result.stderr}\n{result.stdout}"
    )
    return out


def test_html_builds_without_warnings(tmp_path):
    out = sphinx_build("html", tmp_path)
    for page in (
        "index",
        "getting_started",
        "agents",
        "extensions",
        "facade",
        "from_reinforced_lib",
    ):
        assert (out / f"{page}.html").is_file(), page
    # Every public bandit agent is documented, without listing them by hand.
    mab_page = (out / "api" / "mab.html").read_text()
    for name in agentax.agents.mab.__all__:
        assert f'id="agentax.agents.mab.{name}"' in mab_page, name


def test_code_examples_print_what_the_docs_say(tmp_path):
    out = sphinx_build("doctest", tmp_path)
    summary = (out / "output.txt").read_text()
    assert "0 failures in tests" in summary, summary
    n_tests = int(re.search(r"Doctest summary\s*=+\s*(\d+) tests", summary).group(1))
    assert n_tests >= 13, summary  # the guides' testcode blocks all ran
