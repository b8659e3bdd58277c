"""A Dask cluster only the instructor's machines can join: mutual TLS, and its certificates.

``python -m checks cluster certs DIR`` (:func:`write_certificates`) writes a certificate
authority of the course's own and a certificate and key for each role, as PEM files (each key
readable by its owner only)::

    ca.pem         the authority's certificate: every machine of the cluster gets it
    ca-key.pem     the authority's key: it signs, so it stays on the instructor's machine
    scheduler.pem  scheduler-key.pem   for ``dask scheduler --tls-cert ... --tls-key ...``
    worker.pem     worker-key.pem      for every ``dask worker``
    client.pem     client-key.pem      for the grader (``grade --cluster-certs DIR``)

The stock ``dask scheduler`` and ``dask worker`` started with ``--tls-ca-file``, ``--tls-cert``
and ``--tls-key`` accept a peer only if it shows a certificate the authority signed (Dask checks
the chain, not the host name): a worker or a client without one cannot connect. The grader
connects with the client's (:func:`client_security`); :func:`check_address` refuses a plain
``tcp://`` address unless the instructor says the cluster may be insecure.

Dask does not tell roles apart: any certificate the authority signed may act as a client. Give
the worker's key only to the machines that grade.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

ROLES = ("scheduler", "worker", "client")
CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
#: How long the certificates are valid: an academic year, and some.
VALID_DAYS = 400
INSECURE_WARNING = (
    "WARNING: the cluster was reached over plain tcp:// (--insecure-cluster): anyone who could "
    "reach the scheduler could join it as a worker and return any grade, or run code on the "
    "workers; use tls:// with --cluster-certs"
)


class ClusterSecurityError(ValueError):
    """The address or certificates cannot give a connection that only the course shares."""


@dataclass(frozen=True)
class RoleFiles:
    """The certificate and key of one role, as files."""

    certificate: Path
    key: Path


def role_files(folder: Path, role: str) -> RoleFiles:
    """The files of ``role`` ("scheduler", "worker" or "client") in a certificates folder."""
    return RoleFiles(folder / f"{role}.pem", folder / f"{role}-key.pem")


def _write_private(path: Path, content: bytes) -> None:
    """Write ``content`` to a new file only its owner can read (mode 0600 from the start)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(content)
    os.chmod(path, 0o600)  # whatever the umask did


def write_certificates(folder: str | os.PathLike[str], days: int = VALID_DAYS) -> list[Path]:
    """Write a certificate authority and a signed certificate and key for each role.

    Parameters
    ----------
    folder : str or path-like
        A new or empty folder (created with mode 0700).
    days : int, default=VALID_DAYS
        How long the certificates are valid.

    Returns
    -------
    list of Path
        The files written: ``ca.pem``, ``ca-key.pem``, then each role's certificate and key.

    Raises
    ------
    ClusterSecurityError
        The folder already holds certificates, or ``cryptography`` is not installed.
    """
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    except ImportError as error:
        raise ClusterSecurityError(
            "writing certificates needs cryptography: pip install -e '.[grading]'"
        ) from error
    target = Path(folder)
    if target.exists() and any(target.iterdir()):
        raise ClusterSecurityError(f"{target} is not empty: certificates are written only once")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(target, 0o700)
    now = datetime.datetime.now(datetime.UTC)

    def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mnist-course grading cluster"),
                x509.NameAttribute(NameOID.COMMON_NAME, common),
            ]
        )

    def builder(subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey):
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("mnist-course grading CA")
    ca = (
        builder(ca_name, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    written = [target / CA_FILE, target / CA_KEY_FILE]
    written[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _write_private(written[1], pem_key(ca_key))
    for role in ROLES:
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            builder(name(f"mnist-course {role}"), ca_name, key)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                # A scheduler and a worker both accept and open connections.
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        files = role_files(target, role)
        files.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        _write_private(files.key, pem_key(key))
        written += [files.certificate, files.key]
    return written


def check_address(scheduler: str, certificates: Path | None, insecure: bool) -> str:
    """Whether the grader may connect to ``scheduler``: its transport, or why not.

    Parameters
    ----------
    scheduler : str
        The scheduler's address, ``tls://host:port`` (or ``tcp://host:port``).
    certificates : Path or None
        The folder :func:`write_certificates` wrote (``--cluster-certs``).
    insecure : bool
        The instructor accepts a plain ``tcp://`` cluster (``--insecure-cluster``).

    Returns
    -------
    str
        ``"tls"`` or ``"tcp"``.

    Raises
    ------
    ClusterSecurityError
        A ``tls://`` address without certificates, certificates missing from the folder, or
        any other transport without ``insecure``.
    """
    transport = scheduler.split("://", 1)[0] if "://" in scheduler else "tcp"
    if transport == "tls":
        if certificates is None:
            raise ClusterSecurityError(
                f"{scheduler} needs the grader's certificate: --cluster-certs DIR "
                "(written by `python -m checks cluster certs DIR`)"
            )
        client = role_files(certificates, "client")
        for path in (certificates / CA_FILE, client.certificate, client.key):
            if not path.is_file():
                raise ClusterSecurityError(f"{path} is missing: not a certificates folder")
        return transport
    if insecure:
        return transport
    raise ClusterSecurityError(
        f"refusing {scheduler}: on a plain {transport}:// cluster anyone who can reach the "
        "scheduler can join it as a worker and return any grade; use tls://HOST:PORT with "
        "--cluster-certs DIR (`python -m checks cluster certs DIR`), or say --insecure-cluster"
    )


def client_security(certificates: Path) -> object:
    """The grader's :class:`distributed.security.Security`: the client certificate, TLS required.

    Parameters
    ----------
    certificates : Path
        The folder :func:`write_certificates` wrote.

    Returns
    -------
    distributed.security.Security
        Mutual TLS with the course's authority, nothing in clear.
    """
    from distributed.security import Security

    client = role_files(certificates, "client")
    return Security(
        tls_ca_file=str(certificates / CA_FILE),
        tls_client_cert=str(client.certificate),
        tls_client_key=str(client.key),
        require_encryption=True,
    )
