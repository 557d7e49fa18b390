#!/usr/bin/env python3
"""A client no one here wrote: Python grpcio, with stubs generated from proto/ by
grpcio-tools, screens documents over TLS with a bearer token against a real
`mishen serve` process, then stops it with SIGTERM.

    python3 tests/python/grpc_client_test.py target/debug/mishen

Run by .ci/run (which installs tests/python/requirements.txt in a venv).
"""
import datetime
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import grpc
from grpc_tools import protoc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "python-client-secret-token"
REVIEWER = "python-reviewer-token"


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def make_certs(d):
    """A CA and a server certificate for localhost/127.0.0.1."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mishen test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    open(os.path.join(d, "ca.pem"), "wb").write(pem(ca))
    open(os.path.join(d, "server.pem"), "wb").write(pem(cert))
    open(os.path.join(d, "server.key"), "wb").write(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pem(ca)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    if len(sys.argv) != 2:
        fail("usage: grpc_client_test.py PATH/TO/mishen")
    binary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as d:
        # Stubs from proto/, generated now.
        out = os.path.join(d, "gen")
        os.makedirs(out)
        rc = protoc.main(
            [
                "grpc_tools.protoc",
                f"-I{os.path.join(ROOT, 'proto')}",
                f"--python_out={out}",
                f"--grpc_python_out={out}",
                "mishen/v1/screening.proto",
            ]
        )
        if rc != 0:
            fail(f"protoc failed with {rc}")
        for sub in ("mishen", "mishen/v1"):
            open(os.path.join(out, sub, "__init__.py"), "a").close()
        sys.path.insert(0, out)
        from mishen.v1 import screening_pb2 as pb, screening_pb2_grpc as rpc

        ca = make_certs(d)
        port = free_port()
        sha = lambda t: hashlib.sha256(t.encode()).hexdigest()
        cfg = os.path.join(d, "mishen.toml")
        open(cfg, "w").write(
            f"""listen = "127.0.0.1:{port}"
admin_listen = "off"
data_dir = "data"
checkpoint_interval_ms = 100
[tls]
cert = "server.pem"
key = "server.key"
[[tokens]]
name = "python"
sha256 = "{sha(TOKEN)}"
roles = ["submitter"]
[[tokens]]
name = "reviewer"
sha256 = "{sha(REVIEWER)}"
roles = ["reviewer"]
"""
        )
        log = open(os.path.join(d, "server.log"), "w+")
        srv = subprocess.Popen([binary, "serve", "--config", cfg], stderr=log, stdout=log)
        try:
            creds = grpc.ssl_channel_credentials(root_certificates=ca)
            ch = grpc.secure_channel(f"localhost:{port}", creds)
            try:
                grpc.channel_ready_future(ch).result(timeout=60)
            except grpc.FutureTimeoutError:
                log.seek(0)
                fail("server did not come up:\n" + log.read())
            health = health_pb2_grpc.HealthStub(ch)
            h = health.Check(health_pb2.HealthCheckRequest(service="mishen.v1.ScreeningService"), timeout=10)
            if h.status != health_pb2.HealthCheckResponse.SERVING:
                fail(f"health {h.status}")

            stub = rpc.ScreeningServiceStub(ch)
            auth = [("authorization", f"Bearer {TOKEN}")]
            doc = "关于申请人信息的答复\n申请人王小明，身份证号110101199003071233，联系电话13912345678。\n"
            # Declared GBK bytes, as a legacy document system sends them.
            r = stub.Screen(
                pb.ScreenRequest(
                    content=doc.encode("gbk"),
                    media_type="text/plain; charset=GBK",
                    document_id="py-1",
                    options=pb.ScreenOptions(return_redacted_text=True),
                ),
                metadata=auth,
                timeout=30,
            )
            if r.verdict != pb.VERDICT_REDACT:
                fail(f"verdict {r.verdict}")
            kinds = sorted({f.kind for f in r.findings})
            for k in ("person_name", "phone", "resident_id"):
                if k not in kinds:
                    fail(f"{k} not found: {kinds}")
            if len(r.redacted_text) != len(doc) or "13912345678" in r.redacted_text:
                fail("redacted text is not length-preserving or leaks")
            if r.document_id != "py-1" or not r.audit.record_id or not r.audit.signature:
                fail("no audit receipt")
            canonical = r.audit.canonical.decode()
            if "13912345678" in canonical or "王小明" in canonical:
                fail("audit record holds a value")

            marked = stub.Screen(pb.ScreenRequest(text="机密★5年\n关于某事项的通知\n"), metadata=auth, timeout=30)
            if marked.verdict != pb.VERDICT_WITHHOLD:
                fail(f"marked document verdict {marked.verdict}")

            # Errors: status codes a generic client understands.
            try:
                stub.Screen(pb.ScreenRequest(text="x"), timeout=10)
                fail("no token accepted")
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.UNAUTHENTICATED:
                    fail(f"no token: {e.code()}")
            try:
                stub.Screen(pb.ScreenRequest(content=b"\xff\xfe\xfd"), metadata=[("authorization", f"Bearer {REVIEWER}")], timeout=10)
                fail("reviewer may not screen")
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.PERMISSION_DENIED:
                    fail(f"reviewer screen: {e.code()}")
            # Bytes that cannot be read are withheld and recorded, as the CLI does.
            bad = stub.Screen(pb.ScreenRequest(content=b"ok\xff", encoding="utf-8"), metadata=auth, timeout=10)
            if bad.verdict != pb.VERDICT_WITHHOLD or not any(
                x.category == "unreadable" and "byte 2" in x.summary for x in bad.reasons
            ) or not bad.audit.record_id:
                fail(f"bad UTF-8: {bad.verdict} {list(bad.reasons)}")
            try:
                stub.Screen(pb.ScreenRequest(content=b"ok", encoding="klingon"), metadata=auth, timeout=10)
                fail("unknown encoding label accepted")
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.INVALID_ARGUMENT or "unknown encoding" not in e.details():
                    fail(f"unknown encoding: {e.code()} {e.details()}")

            # A batch on one stream.
            reqs = [pb.ScreenRequest(text=doc, document_id=f"s{i}") for i in range(20)]
            got = list(stub.ScreenStream(iter(reqs), metadata=auth, timeout=60))
            if [g.document_id for g in got] != [f"s{i}" for i in range(20)]:
                fail("stream order")
            if any(g.verdict != pb.VERDICT_REDACT for g in got):
                fail("stream verdicts")

            # The reviewer signs off.
            rv = stub.SubmitReview(
                pb.SubmitReviewRequest(
                    record_id=r.audit.record_id,
                    decision=pb.REVIEW_DECISION_CONFIRM,
                    reviewer="审查员甲",
                    role="保密审查员",
                ),
                metadata=[("authorization", f"Bearer {REVIEWER}")],
                timeout=10,
            )
            if rv.verdict != pb.VERDICT_REDACT:
                fail("review verdict")
            ch.close()
        finally:
            srv.send_signal(signal.SIGTERM)
            try:
                code = srv.wait(timeout=60)
            except subprocess.TimeoutExpired:
                srv.kill()
                fail("server did not stop on SIGTERM")
            log.seek(0)
            text = log.read()
        if code != 0:
            fail(f"server exited {code}:\n{text}")
        # 2 screenings + 1 unreadable document withheld + 20 streamed + 1 review.
        if "final checkpoint at size 24" not in text:
            fail("no final checkpoint covering the 24 records:\n" + text)
        if "13912345678" in text or "王小明" in text:
            fail("document text in the server log")
        print("python grpcio client: ok (TLS, token roles, GBK, stream, review, SIGTERM)")


if __name__ == "__main__":
    main()
