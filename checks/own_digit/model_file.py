"""A model file checked before use: its sizes before reading, its arrays and trees before predict.

A ``.skops`` file is a zip of a JSON schema and ``.npy`` arrays; skops rebuilds the model without
pickle, but nothing in it says the arrays are of sizes a course model has, or that a tree is a
tree. A file crafted by hand from a real forest can make ``predict`` hang for ever (a node that
is its own child), crash the process (a child or a feature index out of range: scikit-learn's
tree code does not check them) or take gigabytes (a few megabytes that expand to a 3 GiB array).
So a model file a course command loads is checked in two steps, and refused with one line,
``not a model this course can use: ...`` (:class:`UnusableModel`):

:func:`check_archive`, before anything is read
    the file's size, the number of members, each member's declared size and its actual size
    (read with a cap, never whole), the metadata record's size, and each array's header: its
    shape and type must make exactly the member's size, within the limits.
:func:`check_estimator`, after skops built it and before ``predict``
    every estimator inside (a pipeline's steps, an ensemble's members) reads
    :data:`N_FEATURES` features; every tree is a tree: node count in range, each child after its
    parent and inside the tree (so no cycle), each node but the root the child of one node, a
    leaf's two children both absent, every split's feature in range and threshold finite, the
    values of the shape ``(nodes, outputs, classes)`` and finite; an MLP's weights chain from
    784 inputs to its classes; a linear model's and an SVM's arrays match.
"""

from __future__ import annotations

import ast
import os
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

#: The features every course model reads: the 784 pixels of a 28x28 image.
N_FEATURES = 784
#: The most a model file may weigh on disk (a 100-tree forest is 21 MB, an SVM ~60 MB).
MAX_FILE_BYTES = 512 * 1024**2
MAX_MEMBERS = 20_000
#: The most one member may expand to (the largest, an SVM's support vectors, is ~100 MB).
MAX_MEMBER_BYTES = 256 * 1024**2
#: The most all the members may expand to together.
MAX_TOTAL_BYTES = 1024**3
#: The most the course's metadata record may be (it is well under a kilobyte).
MAX_METADATA_BYTES = 64 * 1024
METADATA_MEMBER = "mnist-course.json"
#: The most nodes one tree may have (a full-depth tree on MNIST's 60,000 images has ~20,000).
MAX_NODES = 2_000_000
_CHUNK = 1024**2
_NPY_MAGIC = b"\x93NUMPY"


class UnusableModel(ValueError):
    """A model file the course refuses before using it; its message is the one line to show."""

    def __init__(self, path: str | os.PathLike, why: str) -> None:
        super().__init__(f"not a model this course can use: {path}: {why}")


def _actual_size(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> int:
    """The bytes a member expands to, read in chunks and never past ``limit`` (+1)."""
    size = 0
    with archive.open(info) as stream:
        while size <= limit:
            chunk = stream.read(min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            size += len(chunk)
    return size


def _npy_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[tuple, np.dtype, int]:
    """An array member's shape, type and header length, from its first bytes only."""
    with archive.open(info) as stream:
        start = stream.read(12)
        if len(start) < 10 or not start.startswith(_NPY_MAGIC):
            raise ValueError("not an array")
        major = start[6]
        if major == 1:
            length, offset = struct.unpack("<H", start[8:10])[0], 10
        elif major in (2, 3):
            length, offset = struct.unpack("<I", start[8:12])[0], 12
        else:
            raise ValueError(f"array format {major}")
        if length > 64 * 1024:
            raise ValueError("an array header of {length} bytes")
        header = (start[offset:] + stream.read(length))[:length]
    fields = ast.literal_eval(header.decode("latin1"))
    if not isinstance(fields, dict) or set(fields) != {"descr", "fortran_order", "shape"}:
        raise ValueError("not an array header")
    shape = fields["shape"]
    if not isinstance(shape, tuple) or not all(type(n) is int and n >= 0 for n in shape):
        raise ValueError(f"shape {shape!r}")
    dtype = np.dtype(np.lib.format.descr_to_dtype(fields["descr"]))
    if dtype.hasobject:
        raise ValueError("an array of Python objects")
    return shape, dtype, offset + length


def check_archive(path: str | os.PathLike) -> None:
    """Check a model file's sizes and arrays before anything of it is read whole.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.skops`` model file.

    Raises
    ------
    UnusableModel
        Too large on disk, too many members, a member that declares or expands to more than
        :data:`MAX_MEMBER_BYTES` (or all of them past :data:`MAX_TOTAL_BYTES`), a metadata
        record past :data:`MAX_METADATA_BYTES`, or an array whose header does not make its
        member's size.
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UnusableModel(path, f"larger than {MAX_FILE_BYTES} bytes")
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise UnusableModel(path, f"{len(members)} members (at most {MAX_MEMBERS})")
            total = 0
            for info in members:
                limit = MAX_METADATA_BYTES if info.filename == METADATA_MEMBER else MAX_MEMBER_BYTES
                if info.file_size > limit:
                    raise UnusableModel(
                        path, f"{info.filename} declares {info.file_size} bytes (at most {limit})"
                    )
                total += info.file_size
                if total > MAX_TOTAL_BYTES:
                    raise UnusableModel(path, f"its members exceed {MAX_TOTAL_BYTES} bytes")
                actual = _actual_size(archive, info, limit)
                if actual != info.file_size:
                    raise UnusableModel(
                        path,
                        f"{info.filename} expands to {'more than ' if actual > limit else ''}"
                        f"{min(actual, limit)} bytes, not the {info.file_size} it declares",
                    )
                if info.filename.endswith(".npy"):
                    _check_array_member(path, archive, info)
    except UnusableModel:
        raise
    except (OSError, zipfile.BadZipFile, ValueError, EOFError) as error:
        raise UnusableModel(path, f"not a readable model file ({error})") from None


def _check_array_member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    try:
        shape, dtype, header = _npy_header(archive, info)
    except (ValueError, SyntaxError, TypeError, MemoryError) as error:
        raise UnusableModel(path, f"{info.filename} is not an array ({error})") from None
    size = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if size > MAX_MEMBER_BYTES or header + size != info.file_size:
        raise UnusableModel(
            path,
            f"{info.filename} claims an array of shape {shape} ({size} bytes) in "
            f"{info.file_size - header} bytes",
        )


def _array(value: Any) -> np.ndarray:
    return np.asarray(value)


def check_tree(tree: Any, n_features: int, where: str = "a tree") -> None:
    """Check that a fitted scikit-learn tree is a tree ``predict`` can walk safely.

    Parameters
    ----------
    tree : sklearn.tree._tree.Tree
        An estimator's ``tree_``.
    n_features : int
        The features the model reads.
    where : str, default="a tree"
        How the message names it.

    Raises
    ------
    ValueError
        The node count is out of range, a child is not after its parent or out of the tree, a
        node has two parents or one child, a split's feature is out of range or its threshold
        not finite, or the values are not of the shape ``(nodes, outputs, classes)`` or not
        finite.
    """
    count = int(tree.node_count)
    if not 1 <= count <= MAX_NODES:
        raise ValueError(f"{where} has {count} nodes")
    if int(tree.n_features) != n_features:
        raise ValueError(f"{where} reads {tree.n_features} features, not {n_features}")
    left, right = _array(tree.children_left), _array(tree.children_right)
    feature, threshold = _array(tree.feature), _array(tree.threshold)
    if not all(array.shape == (count,) for array in (left, right, feature, threshold)):
        raise ValueError(f"{where}'s node arrays are not of its {count} nodes")
    leaf = left == -1
    if np.any(leaf != (right == -1)):
        raise ValueError(f"{where} has a node with one child")
    split = ~leaf
    nodes = np.arange(count)
    for children in (left, right):
        inside = (children[split] > nodes[split]) & (children[split] < count)
        if not np.all(inside):  # each child after its parent: no cycle can be made
            bad = int(nodes[split][~inside][0])
            raise ValueError(
                f"{where}'s node {bad} has the child {int(children[bad])}, not one after it "
                f"among its {count} nodes"
            )
    parents = np.bincount(np.concatenate([left[split], right[split]]), minlength=count)
    if parents[0] != 0 or np.any(parents[1:] != 1):
        raise ValueError(f"{where} is not a tree: a node has no parent or two")
    if np.any((feature[split] < 0) | (feature[split] >= n_features)):
        raise ValueError(f"{where} splits on a feature outside 0..{n_features - 1}")
    if not np.all(np.isfinite(threshold[split])):
        raise ValueError(f"{where} has a threshold that is not a finite number")
    value = _array(tree.value)
    expected = (count, int(tree.n_outputs), int(np.max(_array(tree.n_classes))))
    if value.shape != expected or not np.all(np.isfinite(value)):
        raise ValueError(f"{where}'s values are of shape {value.shape}, not {expected}")


def _check_linear(estimator: Any, name: str) -> None:
    coef = _array(estimator.coef_)
    intercept = _array(getattr(estimator, "intercept_", np.zeros(coef.shape[0])))
    if coef.ndim != 2 or coef.shape[1] != N_FEATURES or intercept.shape != (coef.shape[0],):
        raise ValueError(f"{name}'s weights are of shape {coef.shape}, not (classes, 784)")
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
        raise ValueError(f"{name}'s weights are not finite numbers")


def _check_mlp(estimator: Any, name: str) -> None:
    coefs, intercepts = list(estimator.coefs_), list(estimator.intercepts_)
    inputs = N_FEATURES
    if len(coefs) != len(intercepts) or not coefs:
        raise ValueError(f"{name}'s layers do not pair weights with biases")
    for index, (coef, intercept) in enumerate(zip(coefs, intercepts, strict=True)):
        coef, intercept = _array(coef), _array(intercept)
        if coef.ndim != 2 or coef.shape[0] != inputs or intercept.shape != (coef.shape[1],):
            raise ValueError(f"{name}'s layer {index + 1} does not take {inputs} inputs")
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
            raise ValueError(f"{name}'s layer {index + 1} has weights that are not finite")
        inputs = coef.shape[1]
    if int(estimator.n_outputs_) != inputs:
        raise ValueError(f"{name}'s last layer gives {inputs} outputs, not {estimator.n_outputs_}")


def _check_svm(estimator: Any, name: str) -> None:
    vectors = _array(estimator.support_vectors_)
    support, counts = _array(estimator.support_), _array(estimator.n_support_)
    dual = _array(estimator.dual_coef_)
    n = vectors.shape[0] if vectors.ndim == 2 else -1
    classes = counts.shape[0]
    consistent = (
        vectors.ndim == 2
        and vectors.shape[1] == N_FEATURES
        and support.shape == (n,)
        and int(counts.sum()) == n
        and np.all(counts >= 0)
        and dual.shape == (max(classes - 1, 1), n)
        and _array(estimator.intercept_).shape == (classes * (classes - 1) // 2,)
    )
    if not consistent:
        raise ValueError(f"{name}'s support vectors, counts and coefficients do not match")
    if not (np.all(np.isfinite(vectors)) and np.all(np.isfinite(dual))):
        raise ValueError(f"{name}'s support vectors are not finite numbers")


def _parts(estimator: Any) -> list[Any]:
    """The estimators inside one: a pipeline's steps, an ensemble's fitted members."""
    if hasattr(estimator, "steps"):
        return [step for _, step in estimator.steps if step not in (None, "passthrough")]
    members = getattr(estimator, "estimators_", None)
    if isinstance(members, (list, tuple)):
        return list(members)
    return []


def check_estimator(estimator: Any, path: str | os.PathLike = "the model", depth: int = 0) -> None:
    """Check every estimator inside a loaded model before it predicts anything.

    Parameters
    ----------
    estimator : sklearn estimator
        As skops rebuilt it.
    path : str or os.PathLike, default="the model"
        How the message names the file.
    depth : int, default=0
        How deep inside the model this estimator is (ensembles of ensembles stop at 4).

    Raises
    ------
    UnusableModel
        A part reads other than :data:`N_FEATURES` features, a tree that is not a tree
        (:func:`check_tree`), or an MLP's, a linear model's or an SVM's arrays that do not
        match.
    """
    name = type(estimator).__name__
    try:
        if depth > 4:
            raise ValueError("ensembles nested more than 4 deep")
        n_features = getattr(estimator, "n_features_in_", N_FEATURES)
        if type(n_features) not in (int, np.int64) or int(n_features) != N_FEATURES:
            raise ValueError(f"{name} reads {n_features!r} features, not {N_FEATURES}")
        tree = getattr(estimator, "tree_", None)
        if tree is not None:
            check_tree(tree, N_FEATURES, f"a tree of the {name}")
        if hasattr(estimator, "coefs_"):
            _check_mlp(estimator, name)
        elif hasattr(estimator, "support_vectors_"):
            _check_svm(estimator, name)
        elif hasattr(estimator, "coef_"):
            _check_linear(estimator, name)
    except UnusableModel:
        raise
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        raise UnusableModel(path, str(error)) from None
    for part in _parts(estimator):
        check_estimator(part, path, depth + 1)
