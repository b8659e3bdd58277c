"""Links students click: nbgitpuller links that open each chapter on a JupyterHub.

An nbgitpuller link (``{hub}/hub/user-redirect/git-pull?repo=...&branch=...&urlpath=...``)
logs the student in to the hub, clones the published student repository into their home (or
updates it without touching their changes) and opens the chapter's notebook. The repository and
branch are ``repository.url`` and ``repository.branch`` in ``_config.yml`` (the published
student edition, whose notebooks are under ``notebooks/``); nbgitpuller clones it into a folder
named after the repository. Every parameter is URL-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, quote, urlsplit

import yaml

from checks.catalogue import load_catalogue
from checks.layout import course_notebooks

INTERFACES = {"lab": "lab/tree", "notebook": "tree"}
#: The instructor guide's table of links, written by ``python -m checks release`` for this hub.
EXAMPLE_HUB = "https://hub.example.edu"


class LinkError(ValueError):
    """A link cannot be made; the message is one line and says why."""


@dataclass(frozen=True)
class ChapterLink:
    """One chapter's link."""

    chapter: int
    title: str
    notebook: str
    url: str


def _split(url: str, what: str) -> SplitResult:
    r"""``url`` split, or :class:`LinkError` if it is not one a link can carry.

    :func:`~urllib.parse.urlsplit` drops tabs and newlines silently (``https://hub.edu\nevil``
    would become ``hub.eduevil``) and raises a bare ``ValueError`` on a bad IPv6 host or port.
    """
    if any(character.isspace() or not character.isprintable() for character in url):
        raise LinkError(f"{what}: a URL has no space or control character")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- read for its check: a port that is not 0-65535 raises
    except ValueError as error:
        raise LinkError(f"{what}: not a URL ({error})") from None
    return parts


def hub_base(hub: str) -> str:
    """The hub's base URL, checked: ``https://hub.example.edu`` (a trailing ``/hub/`` dropped).

    Parameters
    ----------
    hub : str
        The hub's address, as the instructor gives it.

    Returns
    -------
    str
        Scheme, host and path, without a trailing ``/`` or ``/hub``.

    Raises
    ------
    LinkError
        Not an http(s) URL with a host, or with a query, a fragment, credentials, a bad port,
        a space or a control character.
    """
    parts = _split(hub.strip(), f"--hub {hub!r}")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise LinkError(f"--hub {hub!r}: expected the hub's address, e.g. https://hub.example.edu")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise LinkError(f"--hub {hub!r}: give the hub's address alone, without ?, # or user@")
    path = parts.path.rstrip("/")
    path = path.removesuffix("/hub")
    return f"{parts.scheme}://{parts.netloc}{path}"


def clone_folder(repository: str) -> str:
    """The folder nbgitpuller clones ``repository`` into: its last path part, without ``.git``.

    Parameters
    ----------
    repository : str
        The repository's URL.

    Returns
    -------
    str
        The folder's name (``mnist-course``).
    """
    name = urlsplit(repository).path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    if not name:
        raise LinkError(f"{repository!r} does not name a repository")
    return name


def nbgitpuller_link(
    hub: str, repository: str, branch: str, path: str, interface: str = "lab"
) -> str:
    """The nbgitpuller link that opens ``path`` (inside the repository) on ``hub``.

    Parameters
    ----------
    hub : str
        The JupyterHub's address.
    repository : str
        The git repository to pull (https).
    branch : str
        Its branch.
    path : str
        The file to open, relative to the repository (``notebooks/01_mnist_binary.ipynb``).
    interface : {"lab", "notebook"}, default="lab"
        JupyterLab, or Jupyter Notebook 7's tree.

    Returns
    -------
    str
        The link, every parameter URL-encoded.

    Examples
    --------
    >>> nbgitpuller_link("https://hub.example.edu", "https://github.com/o/r", "main", "a b.ipynb")
    'https://hub.example.edu/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgithub.com%2Fo%2Fr&branch=main&urlpath=lab%2Ftree%2Fr%2Fa%20b.ipynb'
    """
    if interface not in INTERFACES:
        raise LinkError(f"interface must be one of {', '.join(INTERFACES)}")
    if _split(repository, repr(repository)).scheme not in ("https", "http"):
        raise LinkError(f"{repository!r}: nbgitpuller pulls an https repository URL")
    if not branch.strip():
        raise LinkError("the branch is empty")
    urlpath = f"{INTERFACES[interface]}/{clone_folder(repository)}/{path}"
    query = "&".join(
        f"{name}={quote(value, safe='')}"
        for name, value in (("repo", repository), ("branch", branch), ("urlpath", urlpath))
    )
    return f"{hub_base(hub)}/hub/user-redirect/git-pull?{query}"


def published_repository(root: Path) -> tuple[str, str]:
    """The published student repository and branch: ``repository`` in ``_config.yml``.

    Parameters
    ----------
    root : Path
        The course repository.

    Returns
    -------
    tuple of (str, str)
        ``repository.url`` and ``repository.branch`` (``main`` if unset).
    """
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    repository = config.get("repository") or {}
    return str(repository.get("url", "")), str(repository.get("branch") or "main")


def chapter_links(
    root: Path,
    hub: str,
    *,
    repository: str | None = None,
    branch: str | None = None,
    interface: str = "lab",
) -> list[ChapterLink]:
    """One nbgitpuller link per chapter of the course at ``root``.

    Parameters
    ----------
    root : Path
        The course repository (its chapters and ``_config.yml``).
    hub : str
        The JupyterHub's address.
    repository, branch : str, default=None
        The student repository and branch; by default ``_config.yml``'s.
    interface : {"lab", "notebook"}, default="lab"
        What opens the notebook.

    Returns
    -------
    list of ChapterLink
        In chapter order; each opens ``notebooks/NN_name.ipynb``.

    Raises
    ------
    LinkError
        A bad hub address, repository, branch or interface.
    """
    configured, configured_branch = published_repository(root)
    repository = repository or configured
    branch = branch or configured_branch
    titles = load_catalogue().chapters
    return [
        ChapterLink(
            chapter,
            titles.get(chapter, ""),
            path.name,
            nbgitpuller_link(hub, repository, branch, f"notebooks/{path.name}", interface),
        )
        for chapter, path in course_notebooks(root).items()
    ]


def links_text(links: list[ChapterLink], markdown: bool = False) -> str:
    """The links as the command prints them: a line each, or a Markdown table.

    Parameters
    ----------
    links : list of ChapterLink
        From :func:`chapter_links`.
    markdown : bool, default=False
        A Markdown table rather than a line per chapter.

    Returns
    -------
    str
        The text, ending with a newline.
    """
    if markdown:
        rows = [f"| {link.chapter} | [{link.title}]({link.url}) |" for link in links]
        return "\n".join(["| Chapter | Open on the hub |", "| ---: | --- |", *rows]) + "\n"
    return "".join(f"Chapter {link.chapter} ({link.title}): {link.url}\n" for link in links)


def link_table(root: Path) -> str:
    """The instructor guide's table: each chapter's link on :data:`EXAMPLE_HUB`, as Markdown.

    Parameters
    ----------
    root : Path
        The course repository.

    Returns
    -------
    str
        ``book/nbgitpuller_links.md``'s text.
    """
    header = (
        "<!-- Generated by `python -m checks release` from _config.yml's repository: do not "
        "edit. -->\n\n"
    )
    return header + links_text(chapter_links(root, EXAMPLE_HUB), markdown=True)
