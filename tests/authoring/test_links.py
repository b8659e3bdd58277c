"""nbgitpuller links: one per chapter, for the published student repository, URL-encoded, and
the instructor guide shows what the command prints."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import ROOT

from checks.authoring.links import (
    EXAMPLE_HUB,
    LinkError,
    chapter_links,
    hub_base,
    link_table,
    links_text,
    nbgitpuller_link,
    published_repository,
)
from checks.layout import LINK_TABLE, course_notebooks

HUB = EXAMPLE_HUB


def test_a_link_has_every_parameter_url_encoded():
    url = nbgitpuller_link(
        "https://hub.example.edu/", "https://github.com/org/course-2026.git", "fall & winter",
        "notebooks/01 intro.ipynb",
    )  # fmt: skip
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "hub.example.edu",
        "/hub/user-redirect/git-pull",
    )
    assert "&branch=fall%20%26%20winter&" in url and "/" not in parts.query
    assert parse_qs(parts.query) == {
        "repo": ["https://github.com/org/course-2026.git"],
        "branch": ["fall & winter"],
        "urlpath": ["lab/tree/course-2026/notebooks/01 intro.ipynb"],
    }
    classic = nbgitpuller_link(HUB, "https://github.com/o/r", "main", "a.ipynb", "notebook")
    assert classic.endswith("&urlpath=tree%2Fr%2Fa.ipynb")


@pytest.mark.parametrize(
    ("hub", "base"),
    [
        ("https://hub.example.edu", HUB),
        ("https://hub.example.edu/hub/", HUB),
        ("https://example.edu/jupyter/", "https://example.edu/jupyter"),
    ],
)
def test_the_hub_address_is_its_base(hub, base):
    assert hub_base(hub) == base


@pytest.mark.parametrize(
    "hub",
    [
        "hub.example.edu",
        "ftp://hub.example.edu",
        "https://hub?x=1",
        "https://u:p@hub",
        "",
        "http://[bad",  # urlsplit's ValueError
        "https://hub.example.edu:99999",
        "https://hub.example.edu\nevil",  # urlsplit drops the newline: hub.example.eduevil
        "https://hub.example.edu/my hub",
    ],
)
def test_a_bad_hub_address_is_refused(hub):
    with pytest.raises(LinkError, match="--hub"):
        hub_base(hub)


def test_one_link_per_chapter_for_the_published_repository():
    repository, branch = published_repository(ROOT)
    links = chapter_links(ROOT, HUB)
    assert [link.chapter for link in links] == list(course_notebooks(ROOT))
    for link in links:
        query = parse_qs(urlsplit(link.url).query)
        assert query["repo"] == [repository] and query["branch"] == [branch]
        folder = repository.rstrip("/").rsplit("/", 1)[-1]
        assert query["urlpath"] == [f"lab/tree/{folder}/notebooks/{link.notebook}"]
        assert (ROOT / "notebooks" / link.notebook).is_file()


def test_the_guide_shows_what_the_command_prints():
    completed = subprocess.run(
        [sys.executable, "-m", "checks", "links", "--hub", HUB, "--markdown"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == links_text(chapter_links(ROOT, HUB), markdown=True)
    # The guide includes the table `release` writes for the example hub.
    table = (ROOT / LINK_TABLE).read_text(encoding="utf-8")
    assert table == link_table(ROOT), "run `python -m checks release`"
    assert table.endswith(completed.stdout)
    guide = (ROOT / "book" / "instructors.md").read_text(encoding="utf-8")
    assert f"```{{include}} {LINK_TABLE.name}\n```" in guide


def test_the_command_refuses_a_bad_hub_with_one_line():
    completed = subprocess.run(
        [sys.executable, "-m", "checks", "links", "--hub", "hub.example.edu"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert completed.returncode == 2
    assert completed.stderr == (
        "error: --hub 'hub.example.edu': expected the hub's address, e.g. https://hub.example.edu\n"
    )


def test_a_bad_repository_url_is_one_line():
    with pytest.raises(LinkError, match="not a URL"):
        nbgitpuller_link(HUB, "http://[x", "main", "a.ipynb")
    completed = subprocess.run(
        [sys.executable, "-m", "checks", "links", "--hub", "http://[bad"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    assert completed.stderr.startswith("error: --hub 'http://[bad': not a URL")
