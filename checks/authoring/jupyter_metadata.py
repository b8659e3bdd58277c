"""The notebook metadata JupyterLab writes back, so that committed notebooks open unmodified.

On opening a notebook, JupyterLab starts its kernel and stores in the notebook's metadata the
kernelspec it runs and the ``language_info`` the kernel reports; any difference from what the file
holds marks the notebook as changed (measured with JupyterLab 4.6 and ipykernel 7: a missing
field, or another Python version, does). ``release`` writes exactly that metadata. The Python
version in it is that of the interpreter running ``release`` (the course's environment), so a
notebook that differs from the generated one only by it is up to date: authors on another patch
release of Python do not rewrite every notebook.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ipykernel.ipkernel import IPythonKernel

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def notebook_metadata() -> dict[str, Any]:
    """The notebook-level metadata a JupyterLab running the course's kernel writes back."""
    return {
        "kernelspec": dict(KERNELSPEC),
        "language_info": copy.deepcopy(dict(IPythonKernel.language_info)),
    }


def without_python_version(text: str) -> str | None:
    """A notebook's JSON text with its ``language_info.version`` removed (None if not JSON)."""
    try:
        notebook = json.loads(text)
    except ValueError:
        return None
    if not isinstance(notebook, dict):
        return None
    language = notebook.get("metadata", {}).get("language_info")
    if isinstance(language, dict):
        language.pop("version", None)
    return json.dumps(notebook, sort_keys=True)


def same_but_python_version(stored: str, generated: str) -> bool:
    """Whether two notebook texts differ at most in the Python version of ``language_info``."""
    if stored == generated:
        return True
    bare = without_python_version(stored)
    return bare is not None and bare == without_python_version(generated)
