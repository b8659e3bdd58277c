"""Answer keys: salted, memory-hard hashes of the canonical answers, and their file.

A key never holds an answer, only a hash of it: scrypt (:func:`hashlib.scrypt`) of the flag id
and the canonical answer text, with a random salt per flag. scrypt needs 64 MiB per hash, so a
hash costs about 0.15 s and a GPU gains little over a CPU. That makes guessing expensive, not
impossible: a flag with few plausible answers (a count from 0 to 100, a score with 4 decimals)
can still be recovered from the key file by trying them all. Self-check keys are a convenience
for students; what counts for marks is the grader, which re-runs notebooks under variants.

The key file also holds each flag's **declared mistakes** (:class:`Mistake`): the value of a
common wrong way to compute the flag, hashed the same way, with the hint that names the mistake.
A wrong answer that matches one is told what went wrong instead of the flag's generic hint.

This module is the one home of the hashing, of matching a canonical text against a key, and of
the key file's format (``answer_keys.json`` in the package, and the grader's cached keys of
solutions run under variants). Reading a value into its canonical texts is
:mod:`checks.canonical`'s; judging an answer against a key and the declared mistakes is
:mod:`checks.judge`'s.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass, fields
from functools import cache
from pathlib import Path

from checks.describe import describe_error
from checks.layout import package_file

ALGORITHM = "scrypt"
#: scrypt's cost (``n``, a power of 2), block size (``r``) and parallelism (``p``): 128·n·r bytes
#: = 64 MiB of memory per hash. Measured: 0.14 s a hash on one core of the course's test machine.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**16, 8, 1
#: The most memory a key may ask for: a key file cannot make a check allocate more than this.
MAX_MEMORY = 1024 * 2**20
DIGEST_BYTES = 32
KEYS_FILE = "answer_keys.json"


class KeyFileError(ValueError):
    """The answer keys are not in the format this version of the package reads."""


@dataclass(frozen=True)
class AnswerKey:
    """What is stored for one flag: never the answer, only a salted scrypt hash of it."""

    salt: str
    n: int
    r: int
    p: int
    digest: str
    source: str

    def matches(self, flag_id: str, canonical_text: str) -> bool:
        """Whether ``canonical_text`` is the answer this key was made from.

        Parameters
        ----------
        flag_id : str
            The flag's id; it is hashed with the text, so a key fits one flag only.
        canonical_text : str
            A canonical answer text (:func:`checks.canonical.canonical`).

        Returns
        -------
        bool
            Whether its hash is this key's digest.
        """
        candidate = answer_digest(
            flag_id, canonical_text, bytes.fromhex(self.salt), self.n, self.r, self.p
        )
        return hmac.compare_digest(candidate, self.digest)


@dataclass(frozen=True)
class Mistake:
    """A declared wrong way to compute a flag: a key of its value, and the hint that names it."""

    hint: str
    key: AnswerKey


def _memory(n: int, r: int, p: int) -> int:
    """The bytes scrypt needs for these parameters (OpenSSL's own count), plus 1 MiB to spare."""
    return 128 * r * (n + p + 2) + 2**20


def answer_digest(
    flag_id: str,
    canonical_text: str,
    salt: bytes,
    n: int = SCRYPT_N,
    r: int = SCRYPT_R,
    p: int = SCRYPT_P,
) -> str:
    """The scrypt hash, in hex, of the flag id and the canonical answer text.

    Parameters
    ----------
    flag_id : str
        The flag's id.
    canonical_text : str
        The canonical answer text.
    salt : bytes
        The key's random salt.
    n, r, p : int
        scrypt's cost, block size and parallelism.

    Returns
    -------
    str
        A 64-character hex digest.
    """
    message = f"{flag_id}\x1f{canonical_text}".encode()
    return hashlib.scrypt(
        message, salt=salt, n=n, r=r, p=p, maxmem=_memory(n, r, p), dklen=DIGEST_BYTES
    ).hex()


def make_key(flag_id: str, canonical_text: str, source: str) -> AnswerKey:
    """Hash an answer with a fresh random salt and the current scrypt parameters.

    Parameters
    ----------
    flag_id : str
        The flag's id.
    canonical_text : str
        The canonical answer text.
    source : str
        Where the answer was computed (a solution notebook), for humans.

    Returns
    -------
    AnswerKey
        The new key.
    """
    salt = secrets.token_bytes(16)
    n, r, p = SCRYPT_N, SCRYPT_R, SCRYPT_P  # stored with the digest they made
    digest = answer_digest(flag_id, canonical_text, salt, n, r, p)
    return AnswerKey(salt.hex(), n, r, p, digest, source)


def keys_to_json(keys: dict[str, AnswerKey]) -> dict[str, dict]:
    """Keys as plain JSON data, by flag id (the ``flags`` member of a key file).

    Parameters
    ----------
    keys : dict of str to AnswerKey
        The keys by flag id.

    Returns
    -------
    dict
        Each key as a dict of its fields (salt, scrypt parameters, digest, source).
    """
    return {flag_id: asdict(key) for flag_id, key in keys.items()}


def mistakes_to_json(mistakes: dict[str, list[Mistake]]) -> dict[str, list[dict]]:
    """Declared mistakes as plain JSON data, by flag id (the ``mistakes`` member of a key file).

    Parameters
    ----------
    mistakes : dict of str to list of Mistake
        The mistakes by flag id.

    Returns
    -------
    dict
        Each flag's mistakes as a list of dicts: the hint, then the key's fields.
    """
    return {
        flag_id: [{"hint": mistake.hint, **asdict(mistake.key)} for mistake in declared]
        for flag_id, declared in mistakes.items()
        if declared
    }


def mistakes_from_json(data: object) -> dict[str, list[Mistake]]:
    """The inverse of :func:`mistakes_to_json`.

    Parameters
    ----------
    data : object
        The ``mistakes`` member of a key file.

    Returns
    -------
    dict of str to list of Mistake
        The mistakes by flag id.

    Raises
    ------
    KeyFileError
        If it is not a mapping of flag ids to lists of hinted keys of this format.
    """
    if not isinstance(data, dict):
        raise KeyFileError(f"mistakes must be a JSON object, not {type(data).__name__}")
    mistakes: dict[str, list[Mistake]] = {}
    for flag_id, entries in data.items():
        if not isinstance(entries, list):
            raise KeyFileError(f"flag {flag_id}: its mistakes must be a list")
        declared = []
        for entry in entries:
            hint = entry.get("hint") if isinstance(entry, dict) else None
            if not isinstance(hint, str) or not hint.strip():
                raise KeyFileError(f"flag {flag_id}: a mistake without a hint")
            fields_only = {name: value for name, value in entry.items() if name != "hint"}
            declared.append(Mistake(hint, _checked_key(flag_id, fields_only)))
        mistakes[str(flag_id)] = declared
    return mistakes


def _checked_key(flag_id: object, entry: object) -> AnswerKey:
    """One key read from JSON, its fields and scrypt parameters checked."""
    names = [field.name for field in fields(AnswerKey)]
    if not isinstance(entry, dict) or sorted(entry) != sorted(names):
        found = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
        raise KeyFileError(
            f"flag {flag_id}: not a scrypt answer key (fields {found}, expected {names}); "
            "run `python -m checks keys` to remake the keys"
        )
    n, r, p = (entry[name] for name in ("n", "r", "p"))
    if not all(type(number) is int and number >= 1 for number in (n, r, p)):
        raise KeyFileError(f"flag {flag_id}: scrypt parameters must be positive integers")
    if n < 2 or n & (n - 1) or _memory(n, r, p) > MAX_MEMORY:
        raise KeyFileError(
            f"flag {flag_id}: scrypt n={n}, r={r}, p={p} is not allowed (n a power of 2, "
            f"at most {MAX_MEMORY // 2**20} MiB)"
        )
    try:
        bytes.fromhex(entry["salt"])
        bytes.fromhex(entry["digest"])
    except (TypeError, ValueError):
        raise KeyFileError(f"flag {flag_id}: salt and digest must be hex text") from None
    return AnswerKey(**entry)


def keys_from_json(data: dict[str, dict]) -> dict[str, AnswerKey]:
    """The inverse of :func:`keys_to_json`.

    Parameters
    ----------
    data : dict
        Keys as :func:`keys_to_json` writes them.

    Returns
    -------
    dict of str to AnswerKey
        The keys by flag id.

    Raises
    ------
    KeyFileError
        If an entry is not a scrypt key of this format (a key made by an older version).
    """
    if not isinstance(data, dict):
        raise KeyFileError(f"answer keys must be a JSON object, not {type(data).__name__}")
    return {str(flag_id): _checked_key(flag_id, entry) for flag_id, entry in data.items()}


def keys_path() -> Path:
    """The answer-key file shipped inside the package."""
    return package_file(KEYS_FILE)


@cache
def load_keys(path: Path | None = None) -> dict[str, AnswerKey]:
    """Read the answer keys (an empty dict if the file does not exist yet).

    Parameters
    ----------
    path : Path, optional
        The key file; by default the one shipped inside the package.

    Returns
    -------
    dict of str to AnswerKey
        The keys by flag id.

    Raises
    ------
    KeyFileError
        If the file is not an answer-key file of this format (for example made with another
        hash algorithm).
    """
    data = _read_key_file(path or keys_path(), "python -m checks keys")
    return keys_from_json(data.get("flags")) if data else {}


@cache
def load_mistakes(path: Path | None = None) -> dict[str, list[Mistake]]:
    """Read the declared mistakes of the answer-key file (empty if it has none).

    Parameters
    ----------
    path : Path, optional
        The key file; by default the one shipped inside the package.

    Returns
    -------
    dict of str to list of Mistake
        Each flag's declared mistakes, in the order the solutions declare them.

    Raises
    ------
    KeyFileError
        If the file is not an answer-key file of this format.
    """
    data = _read_key_file(path or keys_path(), "python -m checks keys")
    return mistakes_from_json(data.get("mistakes", {})) if data else {}


def _read_key_file(path: Path, remake: str) -> dict:
    """A key file's JSON object, checked to be of this format; ``{}`` if there is no file.

    ``remake`` is the command that writes the file anew, for the error message.
    """
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise KeyFileError(f"{path}: not readable as JSON ({describe_error(error)})") from None
    algorithm = data.get("algorithm") if isinstance(data, dict) else None
    if algorithm != ALGORITHM:
        raise KeyFileError(
            f"{path}: unknown hash algorithm {algorithm!r} (this version reads {ALGORITHM!r}); "
            f"run `{remake}` to remake the keys"
        )
    return data


def _key_file_text(comment: str, member: str, content: dict, **more: dict) -> str:
    """The JSON text of a key file (a comment, the algorithm, the keys), stable for diffs."""
    document = {"comment": comment, "algorithm": ALGORITHM, member: content, **more}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def dump_keys(keys: dict[str, AnswerKey], mistakes: dict[str, list[Mistake]] | None = None) -> str:
    """The JSON text of an answer-key file, stable for clean diffs.

    Parameters
    ----------
    keys : dict of str to AnswerKey
        The keys by flag id.
    mistakes : dict of str to list of Mistake, optional
        The declared mistakes by flag id, written after the keys.

    Returns
    -------
    str
        The file's text.
    """
    more = {"mistakes": mistakes_to_json(mistakes)} if mistakes else {}
    return _key_file_text(
        "Generated by `python -m checks keys` from the executed solution notebooks. "
        "Do not edit by hand. Each digest is scrypt(flag id, canonical answer; salt, n, r, p); "
        "a mistake's digest hashes the value of a declared wrong way to compute the flag.",
        "flags",
        keys_to_json(keys),
        **more,
    )


# Keys of the answers that differ under another scikit-learn series (``python -m checks compat``):
# a file of their own, by series ("1.6") then flag id, in the format of ``answer_keys.json``.
VERSION_KEYS_FILE = "answer_keys_by_version.json"


def version_keys_path() -> Path:
    """The file of per-series answer keys shipped inside the package."""
    return package_file(VERSION_KEYS_FILE)


@cache
def load_version_keys(path: Path | None = None) -> dict[str, dict[str, AnswerKey]]:
    """Scikit-learn series -> flag id -> key of that series' answer (empty without the file)."""
    data = _read_key_file(path or version_keys_path(), "python -m checks compat --from-results")
    by_series = data.get("scikit-learn", {})
    if not isinstance(by_series, dict):
        raise KeyFileError(f"{path}: 'scikit-learn' must map series to keys")
    return {str(series): keys_from_json(keys) for series, keys in by_series.items()}


def dump_version_keys(keys: dict[str, dict[str, AnswerKey]]) -> str:
    """The JSON text of a per-series key file, stable for clean diffs."""
    return _key_file_text(
        "Generated by `python -m checks compat`: the answers that differ under another "
        "scikit-learn series, each accepted only there. Do not edit by hand.",
        "scikit-learn",
        {series: keys_to_json(keys[series]) for series in sorted(keys)},
    )
