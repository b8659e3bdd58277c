"""Train, save and load the own-digit models (``mnist-digit train``), safely and versioned.

Every model sees the same features: the 784 pixels divided by 255 (:func:`features`), the
scaling of chapter 7. The kinds (:data:`KINDS`), all with ``random_state`` fixed:

``svm``
    ``SVC`` (RBF kernel, ``gamma="scale"``) with ``probability=True``: scikit-learn fits a Platt
    calibration by an internal 5-fold cross-validation, so training costs about 5 times more but
    ``predict`` can print real probabilities (a softmax of decision values is not one).
``forest``, ``extra-trees``
    100 trees.
``sgd``
    ``StandardScaler`` then ``SGDClassifier(loss="log_loss")`` (logistic regression by SGD, so it
    has ``predict_proba``), 20 epochs: by then the test accuracy has stopped improving, where
    scikit-learn's default (up to 1,000 epochs, until the loss settles) takes 20 times longer.
``mlp``
    ``MLPClassifier``: one hidden layer of 100 ReLU units (~80,000 weights), early stopping.
``voting``
    Soft voting of a forest, extra-trees and the MLP.
``cnn``
    Chapter 9's LeNet-5, trained with Keras (the ``deep`` extra) on images moved a little at
    random at every epoch, predicted by NumPy: :mod:`checks.own_digit.cnn`. The course's best
    reader of real digits (``benchmarks/real_digits.py``).

A model file is a skops file (``skops.io.dump``, deflate-compressed: no pickle, so loading does
not run code; a 100-tree forest on MNIST takes 21 MB instead of 146 MB uncompressed) with one
extra member, ``mnist-course.json``: a metadata record (:func:`read_metadata`) of the kind, the
course version, the library versions, the training and test sizes and the test accuracy.
:func:`load_model` refuses a file made with another scikit-learn (skops does not promise
compatibility across versions: retrain), warns when NumPy or SciPy differ, and loads only the
types of :data:`ALLOWED_TYPES` beyond those skops trusts by default. A CNN's file holds no
estimator but its weights: ten float32 ``.npy`` arrays in the same kind of zip archive (a NumPy
``.npz``), read without pickle and checked against the network's shapes
(:func:`checks.own_digit.cnn.read_weights`), with the same metadata record; as predicting needs
only NumPy, only a NumPy other than the one that saved it is mentioned (a warning).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from checks.distribution import __version__
from checks.files import shown_path
from checks.own_digit.model_file import UnusableModel, check_archive, check_estimator

KINDS = ("svm", "forest", "extra-trees", "sgd", "voting", "mlp", "cnn")
#: The kinds scikit-learn trains (all but the CNN).
SKLEARN_KINDS = KINDS[:-1]
METADATA_MEMBER = "mnist-course.json"
FORMAT = "mnist-course-model/1"
RANDOM_STATE = 42
#: Types a course model holds that skops does not trust by default: the trees' arrays, the MLP's
#: optimiser, the voting classifier's named estimators. Any other type refuses the file.
ALLOWED_TYPES = frozenset(
    {
        "sklearn.tree._tree.Tree",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
        "sklearn.utils._bunch.Bunch",
    }
)
VERSIONED = ("scikit-learn", "numpy", "scipy", "skops")
# The estimator parameters that print progress lines while a model trains (the SVM has none).
PROGRESS = {
    "forest": {"verbose": 1},
    "extra-trees": {"verbose": 1},
    "mlp": {"verbose": True},
    "voting": {"verbose": True},
}


class ModelFileError(ValueError):
    """A model file that is missing, unreadable or not a course model."""


class ModelVersionError(ModelFileError):
    """A model file made with another scikit-learn: retrain it."""


class UntrustedModelError(ModelFileError):
    """A model file holding types outside :data:`ALLOWED_TYPES`."""


@dataclass
class TrainedModel:
    """A fitted model and its metadata record (see :func:`read_metadata`)."""

    estimator: Any
    metadata: dict[str, Any]
    report: str = field(default="", repr=False)


def features(images: np.ndarray) -> np.ndarray:
    """What every model sees: each 28x28 image as 784 pixels divided by 255.

    The scaling of chapter 7, the same for training and prediction.

    Parameters
    ----------
    images : numpy.ndarray
        The uint8 images (N, 28, 28) or rows (N, 784), 0..255.

    Returns
    -------
    numpy.ndarray
        The features, float64 (N, 784), 0..1.

    See Also
    --------
    checks.own_digit.to_mnist : Makes a 28x28 image of any picture.

    Examples
    --------
    >>> features(np.full((2, 28, 28), 255, dtype=np.uint8)).shape
    (2, 784)
    """
    return np.asarray(images, dtype=np.float64).reshape(len(images), 784) / 255.0


def library_versions() -> dict[str, str]:
    """The installed versions of the libraries a model file depends on.

    Recorded in a model file's metadata and compared on loading.

    Returns
    -------
    dict of str to str
        The versions of scikit-learn, numpy, scipy and skops.

    See Also
    --------
    check_versions : The comparison.

    Examples
    --------
    >>> sorted(library_versions())
    ['numpy', 'scikit-learn', 'scipy', 'skops']
    """
    return {name: version(name) for name in VERSIONED}


def make_model(kind: str, *, n_jobs: int | None = None, random_state: int = RANDOM_STATE) -> Any:
    """An unfitted model of one kind (see the module's description).

    The kinds and their settings are in the module's description.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    n_jobs : int, optional
        Cores for forests and voting (``-1``: all).
    random_state : int, default 42
        Fixed, so that training twice gives the same model.

    Returns
    -------
    sklearn.base.ClassifierMixin
        The estimator (a pipeline for ``sgd``).

    See Also
    --------
    train_model : Fit one and measure it.

    Examples
    --------
    >>> make_model("forest").n_estimators
    100
    """
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier, VotingClassifier
    from sklearn.linear_model import SGDClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    def mlp() -> MLPClassifier:
        return MLPClassifier(
            hidden_layer_sizes=(100,), early_stopping=True, random_state=random_state
        )

    if kind == "svm":
        return SVC(probability=True, random_state=random_state)
    if kind == "forest":
        return RandomForestClassifier(n_jobs=n_jobs, random_state=random_state)
    if kind == "extra-trees":
        return ExtraTreesClassifier(n_jobs=n_jobs, random_state=random_state)
    if kind == "sgd":
        return make_pipeline(
            StandardScaler(),
            SGDClassifier(loss="log_loss", max_iter=20, tol=None, random_state=random_state),
        )
    if kind == "mlp":
        return mlp()
    if kind == "voting":
        members = [
            ("forest", RandomForestClassifier(random_state=random_state)),
            ("extra-trees", ExtraTreesClassifier(random_state=random_state)),
            ("mlp", mlp()),
        ]
        return VotingClassifier(members, voting="soft", n_jobs=n_jobs)
    if kind == "cnn":
        raise ValueError("the cnn is a Keras network, not a scikit-learn estimator: train_model")
    raise ValueError(f"unknown model kind {kind!r}: choose among {', '.join(KINDS)}")


def search_space(kind: str) -> dict[str, Any]:
    """The hyperparameters a ``--search`` samples for one kind (a small random search).

    Sampled by ``RandomizedSearchCV`` in :func:`train_model`.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.

    Returns
    -------
    dict
        Parameter names of :func:`make_model`'s estimator to lists or scipy distributions.

    See Also
    --------
    make_model : The estimator whose parameters these are.

    Examples
    --------
    >>> sorted(search_space("svm"))
    ['C', 'gamma']
    """
    from scipy.stats import loguniform

    spaces: dict[str, dict[str, Any]] = {
        "svm": {"C": loguniform(1, 20), "gamma": loguniform(0.005, 0.05)},
        "forest": {"n_estimators": [100, 200], "max_features": ["sqrt", 0.05, 0.1]},
        "extra-trees": {"n_estimators": [100, 200], "max_features": ["sqrt", 0.05, 0.1]},
        "sgd": {"sgdclassifier__alpha": loguniform(1e-5, 1e-2)},
        "mlp": {"hidden_layer_sizes": [(100,), (200,)], "alpha": loguniform(1e-5, 1e-2)},
        "voting": {"weights": [[1, 1, 1], [1, 1, 2], [2, 1, 1], [1, 2, 1]]},
    }
    if kind == "cnn":
        raise ValueError("no search for the cnn: train it without --search")
    if kind not in spaces:
        raise ValueError(f"unknown model kind {kind!r}: choose among {', '.join(KINDS)}")
    return spaces[kind]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def train_model(
    kind: str,
    data: dict[str, np.ndarray],
    *,
    search: bool = False,
    n_iter: int = 4,
    n_jobs: int | None = None,
    random_state: int = RANDOM_STATE,
    log: Callable[[str], None] | None = _say,
    epochs: int | None = None,
    augment: bool = True,
) -> TrainedModel:
    """Train one kind of model on a training set and measure it on the test set.

    Trains on :func:`features` of ``X_train``, measures accuracy on ``X_test``, and
    returns the model with its metadata record, ready for :func:`save_model`.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    data : dict of str to numpy.ndarray
        ``X_train``, ``y_train``, ``X_test``, ``y_test`` (see :mod:`checks.own_digit.dataset`).
    search : bool, default False
        First a randomized search (``n_iter`` candidates, 3-fold cross-validation) over
        :func:`search_space`, then the best candidate refitted on all the training images.
    n_iter : int, default 4
        Candidates of the search.
    n_jobs : int, optional
        Cores (``-1``: all).
    random_state : int, default 42
        Of the model and the search.
    log : callable, optional
        Receives progress lines (default: standard error); ``None`` for silence. Unless
        ``None``, the estimator prints its own while it trains (the MLP each epoch, forests
        their trees in batches, voting each member; the SVM nothing, SGD nothing: 25 s; the
        CNN a progress bar per epoch).
    epochs : int, optional
        The CNN's passes over the training images (default
        :data:`checks.own_digit.cnn.EPOCHS`); only for ``cnn``.
    augment : bool, default True
        The CNN sees every image moved a little at random at each pass
        (:func:`checks.own_digit.cnn.jitter`); False: MNIST's images as they are.

    Returns
    -------
    TrainedModel
        The fitted estimator, its metadata record and the test set's per-class report.

    See Also
    --------
    save_model : Write it to a file.

    Examples
    --------
    >>> trained = train_model("sgd", load_dataset("mnist.npz"))  # doctest: +SKIP
    >>> trained.metadata["test_accuracy"]  # doctest: +SKIP
    0.1234
    """
    from sklearn.metrics import accuracy_score, classification_report
    from sklearn.model_selection import RandomizedSearchCV

    if kind == "cnn":
        if search:
            raise ValueError("no search for the cnn: train it without --search")
        return _train_cnn(data, epochs=epochs, augment=augment, random_state=random_state, log=log)
    if epochs is not None or not augment:
        raise ValueError(f"epochs and augment are for the cnn only, not for {kind}")
    verbose = 0 if log is None else 1
    log = log or (lambda message: None)
    X_train, y_train = features(data["X_train"]), data["y_train"]
    estimator = make_model(kind, n_jobs=n_jobs, random_state=random_state)
    started = time.perf_counter()
    best_params: dict[str, Any] = {}
    if search:
        log(f"searching {n_iter} candidates x 3 folds for {kind} on {len(X_train):,} images ...")
        searcher = RandomizedSearchCV(
            estimator,
            search_space(kind),
            n_iter=n_iter,
            cv=3,
            n_jobs=n_jobs,
            random_state=random_state,
            verbose=verbose,
        )
        searcher.fit(X_train, y_train)
        estimator = searcher.best_estimator_
        best_params = {key: _plain(value) for key, value in searcher.best_params_.items()}
        log(f"best: {best_params} (cross-validated accuracy {searcher.best_score_:.4f})")
    else:
        log(f"training {kind} on {len(X_train):,} images ...")
        chatty = PROGRESS.get(kind, {}) if verbose else {}
        estimator.set_params(**chatty)  # progress lines: the MLP's epochs, the forest's trees
        estimator.fit(X_train, y_train)
        estimator.set_params(**dict.fromkeys(chatty, 0))  # a loaded model predicts quietly
    seconds = time.perf_counter() - started
    log(f"trained in {seconds:.1f} s")
    predicted = estimator.predict(features(data["X_test"]))
    accuracy = float(accuracy_score(data["y_test"], predicted))
    report = classification_report(data["y_test"], predicted, digits=4, zero_division=0)
    metadata = {
        "format": FORMAT,
        "kind": kind,
        "course_version": __version__,
        "versions": library_versions(),
        "training_size": len(X_train),
        "test_size": len(data["X_test"]),
        "test_accuracy": round(accuracy, 6),
        "search": best_params if search else None,
        "training_seconds": round(seconds, 1),
        "random_state": random_state,
    }
    return TrainedModel(estimator, metadata, report)


def _train_cnn(
    data: dict[str, np.ndarray],
    *,
    epochs: int | None,
    augment: bool,
    random_state: int,
    log: Callable[[str], None] | None,
) -> TrainedModel:
    """The CNN of :mod:`checks.own_digit.cnn`, trained and measured as :func:`train_model` does."""
    from sklearn.metrics import accuracy_score, classification_report

    from checks.own_digit import cnn

    cnn.import_keras()  # before a word is said: without Keras, one line
    say = log or (lambda message: None)
    epochs = cnn.EPOCHS if epochs is None else epochs
    say(f"training cnn on {len(data['X_train']):,} images, {epochs} epochs ...")
    started = time.perf_counter()
    network, record = cnn.train_cnn(
        data,
        epochs=epochs,
        augment=augment,
        random_state=random_state,
        log=log,
        progress=log is not None,
    )
    seconds = time.perf_counter() - started
    say(f"trained in {seconds:.1f} s")
    predicted = network.predict(features(data["X_test"]))
    accuracy = float(accuracy_score(data["y_test"], predicted))
    report = classification_report(data["y_test"], predicted, digits=4, zero_division=0)
    metadata = {
        "format": FORMAT,
        "kind": "cnn",
        "course_version": __version__,
        "versions": record.pop("versions"),
        "training_size": len(data["X_train"]),
        "test_size": len(data["X_test"]),
        "test_accuracy": round(accuracy, 6),
        "search": None,
        "training_seconds": round(seconds, 1),
        "random_state": random_state,
        **record,
    }
    return TrainedModel(network, metadata, report)


def _plain(value: Any) -> Any:
    """A search parameter as JSON can hold it."""
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    return value


def check_model_path(path: str | os.PathLike) -> Path:
    """Check that a model file can be written at ``path``, before a model is trained for it.

    Parameters
    ----------
    path : str or os.PathLike
        The file :func:`save_model` is to write.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ModelFileError
        Its folder does not exist, or ``path`` is a folder.

    See Also
    --------
    save_model : Checks it too.

    Examples
    --------
    >>> check_model_path("mlp.skops")
    PosixPath('mlp.skops')
    """
    path = Path(path)
    if path.is_dir():
        example = shown_path(path / "mlp.skops")
        raise ModelFileError(f"{shown_path(path)} is a folder: give a file name, e.g. {example}")
    if not path.parent.is_dir():
        raise ModelFileError(f"no such folder: {shown_path(path.parent)}")
    return path


def save_model(path: str | os.PathLike, trained: TrainedModel) -> Path:
    """Write a model file: the estimator by ``skops.io.dump`` (a CNN's weights) plus its record.

    The file is written beside its destination, then renamed: never half-written.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (``.skops`` by convention); replaced atomically.
    trained : TrainedModel
        From :func:`train_model`.

    Returns
    -------
    pathlib.Path
        The file written.

    See Also
    --------
    load_model : Read it back, safely.

    Examples
    --------
    >>> save_model("forest.skops", train_model("forest", data))  # doctest: +SKIP
    PosixPath('forest.skops')
    """
    import skops.io

    path = check_model_path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        if trained.metadata.get("kind") == "cnn":
            from checks.own_digit.cnn import weights_to_bytes

            with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, content in weights_to_bytes(trained.estimator.weights).items():
                    archive.writestr(name, content)
        else:
            skops.io.dump(trained.estimator, temporary, compression=zipfile.ZIP_DEFLATED)
        with zipfile.ZipFile(temporary, "a", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(METADATA_MEMBER, json.dumps(trained.metadata, indent=2))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 would hide it from the group
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """A model file's metadata record, without loading the model.

    Read from the file's ``mnist-course.json`` member.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_model`.

    Returns
    -------
    dict
        ``format``, ``kind``, ``course_version``, ``versions`` (scikit-learn, numpy, scipy,
        skops), ``training_size``, ``test_size``, ``test_accuracy``, ``search`` (the best
        parameters, or None), ``training_seconds``, ``random_state``.

    Raises
    ------
    ModelFileError
        Missing, not a zip, or without a course metadata record.

    See Also
    --------
    load_model : The model too.

    Examples
    --------
    >>> read_metadata("forest.skops")["kind"]  # doctest: +SKIP
    'forest'
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"no such model file: {path} (train one: mnist-digit train)")
    try:
        check_archive(path)  # sizes and arrays, before anything is read whole
    except UnusableModel as error:
        raise ModelFileError(str(error)) from None
    try:
        with zipfile.ZipFile(path) as archive:
            metadata = json.loads(archive.read(METADATA_MEMBER))
    except KeyError:
        raise ModelFileError(f"{path} is not a course model file (no metadata record)") from None
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ModelFileError(f"cannot read {path} as a model file ({error})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a course model file of format {FORMAT}")
    return metadata


def check_versions(metadata: dict[str, Any], source: str = "the model") -> list[str]:
    """Compare a metadata record's library versions with the installed ones.

    What :func:`load_model` applies.

    Parameters
    ----------
    metadata : dict
        From :func:`read_metadata`.
    source : str, default "the model"
        How messages name the file.

    Returns
    -------
    list of str
        One warning per library other than scikit-learn whose version differs.

    Raises
    ------
    ModelVersionError
        scikit-learn differs: a model must be loaded by the version that trained it (not for
        a CNN, whose weights NumPy alone runs).
    ModelFileError
        The record's ``versions`` is not a table of library names and versions.

    See Also
    --------
    library_versions : The installed versions.

    Examples
    --------
    >>> check_versions({"versions": library_versions()})
    []
    """
    installed = library_versions()
    recorded = metadata.get("versions") or {}
    if not isinstance(recorded, dict):
        raise ModelFileError(
            f"{source} is not a course model file: its versions record is a "
            f"{type(recorded).__name__}, not a table of library versions"
        )
    if metadata.get("kind") == "cnn":  # NumPy alone runs it: weights, not a pickled estimator
        saved, running = recorded.get("numpy"), installed["numpy"]
        return (
            []
            if saved == running
            else [f"{source} was saved with numpy {saved}, this is {running}"]
        )
    if recorded.get("scikit-learn") != installed["scikit-learn"]:
        raise ModelVersionError(
            f"{source} was trained with scikit-learn {recorded.get('scikit-learn')}, this is "
            f"{installed['scikit-learn']}: retrain it with this version (mnist-digit train)"
        )
    return [
        f"{source} was saved with {name} {recorded.get(name)}, this is {installed[name]}"
        for name in VERSIONED[1:]
        if recorded.get(name) != installed[name]
    ]


def load_model(path: str | os.PathLike) -> TrainedModel:
    """Load a model file safely: its versions checked, only allowed types trusted.

    The file's sizes and arrays are checked before anything is read whole
    (:func:`~checks.own_digit.model_file.check_archive`), the metadata is read and checked
    before anything is loaded; skops then loads the model without pickle, and every estimator
    and tree in it is checked before it can predict
    (:func:`~checks.own_digit.model_file.check_estimator`).

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save_model`.

    Returns
    -------
    TrainedModel
        The estimator and its metadata record (``report`` is empty).

    Raises
    ------
    ModelFileError
        Missing, unreadable, or not a course model; or ``not a model this course can use:
        ...`` (a member too large, an array or a tree that is not what it claims).
    ModelVersionError
        Trained with another scikit-learn.
    UntrustedModelError
        It holds types outside :data:`ALLOWED_TYPES` (the file was not made by the course).
        A CNN's file is refused (:class:`ModelFileError`) unless it holds exactly the network's
        weight arrays.

    Warns
    -----
    UserWarning
        NumPy, SciPy or skops differ from the versions that saved it.

    See Also
    --------
    save_model : Write one.
    read_metadata : Only the record.

    Examples
    --------
    >>> model = load_model("forest.skops")  # doctest: +SKIP
    >>> model.estimator.predict(features(images))  # doctest: +SKIP
    """
    import skops.io

    metadata = read_metadata(path)
    for message in check_versions(metadata, str(path)):
        warnings.warn(message, UserWarning, stacklevel=2)
    if metadata.get("kind") == "cnn":
        return _load_cnn(path, metadata)
    try:
        untrusted = skops.io.get_untrusted_types(file=path)
    except Exception as error:
        raise ModelFileError(f"cannot read {path} as a model file ({error})") from None
    refused = sorted(set(untrusted) - ALLOWED_TYPES)
    if refused:
        raise UntrustedModelError(
            f"{path} holds types a course model never has, refused: {', '.join(refused)}"
        )
    try:
        estimator = skops.io.load(path, trusted=list(untrusted))
    except Exception as error:
        raise ModelFileError(f"cannot load the model in {path} ({error})") from None
    try:
        check_estimator(estimator, path)  # every tree a tree, every array its shape
    except UnusableModel as error:
        raise ModelFileError(str(error)) from None
    return TrainedModel(estimator, metadata)


def _load_cnn(path: str | os.PathLike, metadata: dict[str, Any]) -> TrainedModel:
    """A CNN's file: its weights, read without pickle, checked against the network."""
    from checks.own_digit import cnn

    if metadata.get("architecture") != cnn.ARCHITECTURE:
        raise ModelFileError(
            f"{path} holds another network ({metadata.get('architecture')}), not the course's "
            f"{cnn.ARCHITECTURE}: retrain it (mnist-digit train --model cnn)"
        )
    try:
        weights = cnn.read_weights(path)
    except ValueError as error:
        raise ModelFileError(str(error).splitlines()[0]) from None
    return TrainedModel(cnn.CnnClassifier(weights), metadata)
