"""A real Kubernetes API (etcd + kube-apiserver as two plain processes on loopback).

Enough for everything that needs the API but no pods: server-side dry runs of the charts,
CRDs, the operator's tests. Both binaries come from `k8s.toolchain` (built on first use).
A fresh CA signs the serving certificate; the admin authenticates with a static token in
`system:masters`; service-account tokens are signed with a generated key pair.

Usage: python -m k8s.apiserver   (starts both, prints the kubeconfig, stops on Ctrl-C)
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from devstack.procs import Proc, free_port
from k8s import toolchain

SERVICE_CIDR = "10.96.0.0/16"


@dataclass(frozen=True)
class KubeAPI:
    """How to reach a running API server as its admin."""

    url: str
    token: str
    ca_file: Path
    kubeconfig: Path

    def kubectl(self) -> list[str]:
        """argv prefix for kubectl against this server."""
        return [str(toolchain.path("kubectl")), "--kubeconfig", str(self.kubeconfig)]


def _pem_key(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
) -> x509.Certificate:
    """A CA (issuer None, self-signed) or a serving cert for loopback signed by the CA."""
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer[0].subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer:
        alt = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def write_credentials(directory: Path) -> str:
    """CA, serving certificate, service-account key pair and the admin token file.
    Returns the admin token."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("product-store-test-ca", ca_key, None)
    serving_key = ec.generate_private_key(ec.SECP256R1())
    serving = _certificate("kube-apiserver", serving_key, (ca, ca_key))
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = secrets.token_urlsafe(24)
    files = {
        "ca.crt": ca.public_bytes(serialization.Encoding.PEM),
        "serving.crt": serving.public_bytes(serialization.Encoding.PEM),
        "serving.key": _pem_key(serving_key),
        "sa.key": _pem_key(sa_key),
        "sa.pub": sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        # token,user,uid,"groups": system:masters bypasses authorization.
        "tokens.csv": f'{token},admin,admin,"system:masters"\n'.encode(),
    }
    for name, content in files.items():
        (directory / name).write_bytes(content)
    return token


def kubeconfig(url: str, ca_file: Path, token: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "local", "cluster": {"server": url, "certificate-authority": str(ca_file)}}
        ],
        "users": [{"name": "admin", "user": {"token": token}}],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": "admin"}}],
        "current-context": "local",
    }


def _ready(url: str, token: str, ca_file: Path) -> bool:
    request = urllib.request.Request(f"{url}/readyz", headers={"Authorization": f"Bearer {token}"})
    context = ssl.create_default_context(cafile=str(ca_file))
    try:
        with urllib.request.urlopen(request, timeout=2, context=context) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def processes(directory: Path, name: str = "kube-apiserver") -> tuple[Proc, Proc, KubeAPI]:
    """The etcd and kube-apiserver processes (not started) and how to reach the API."""
    binaries = toolchain.ensure(["etcd", "kube-apiserver", "kubectl"])
    token = write_credentials(directory)
    client, peer, secure = free_port(), free_port(), free_port()
    etcd_url = f"http://127.0.0.1:{client}"
    peer_url = f"http://127.0.0.1:{peer}"
    etcd = Proc(
        f"{name}-etcd",
        [
            str(binaries["etcd"]),
            f"--data-dir={directory / 'etcd'}",
            f"--listen-client-urls={etcd_url}",
            f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=default={peer_url}",
            "--log-level=warn",
            # Throwaway data: fsync only slows the tests down on a shared disk.
            "--unsafe-no-fsync",
        ],
        ready=lambda: _etcd_ready(etcd_url),
    )
    url = f"https://127.0.0.1:{secure}"
    ca_file = directory / "ca.crt"
    apiserver = Proc(
        name,
        [
            str(binaries["kube-apiserver"]),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={secure}",
            f"--cert-dir={directory}",
            f"--tls-cert-file={directory / 'serving.crt'}",
            f"--tls-private-key-file={directory / 'serving.key'}",
            f"--token-auth-file={directory / 'tokens.csv'}",
            "--authorization-mode=RBAC",
            f"--service-account-key-file={directory / 'sa.pub'}",
            f"--service-account-signing-key-file={directory / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--profiling=false",
        ],
        ready=lambda: _ready(url, token, ca_file),
        timeout=120.0,
    )
    config = directory / "kubeconfig"
    config.write_text(yaml.safe_dump(kubeconfig(url, ca_file, token)))
    return etcd, apiserver, KubeAPI(url=url, token=token, ca_file=ca_file, kubeconfig=config)


def _etcd_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return b'"health":"true"' in response.read()
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def running(directory: Path | None = None, name: str = "kube-apiserver") -> Iterator[KubeAPI]:
    """etcd and kube-apiserver up and ready inside the block, both stopped after it."""
    owned = directory is None
    workdir = Path(tempfile.mkdtemp(prefix="kube-apiserver-")) if owned else directory
    assert workdir is not None
    etcd, apiserver, api = processes(workdir, name)
    try:
        etcd.start()
        apiserver.start()
        yield api
    finally:
        apiserver.stop()
        etcd.stop()
        if owned:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    # Ctrl-C or SIGTERM ends the wait; a second one cannot interrupt the shutdown.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    began = time.monotonic()
    with running() as api:
        print(f"kube-apiserver ready in {time.monotonic() - began:.1f}s at {api.url}", flush=True)
        print(f"export KUBECONFIG={api.kubeconfig}", flush=True)
        print("Ctrl-C stops etcd and kube-apiserver", flush=True)
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
