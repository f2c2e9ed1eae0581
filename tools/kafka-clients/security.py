"""TLS and SASL of `stream-tool serve`, checked with real clients: confluent-kafka (librdkafka),
kafka-python and kcat over SASL_SSL with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN, wrong
passwords and plaintext refused, requests before a login refused, users added and removed
while the server runs, and the admin calls DescribeConfigs and DescribeCluster. Run by
`make kafka-security` (part of `make test`):

    python3 tools/kafka-clients/security.py --tool .build/debug/stream-tool

A self-signed certificate for 127.0.0.1 is made with the openssl command for each run.
Each check prints one line; the first failure stops the run with exit status 1.
"""
import argparse
import os
import shutil
import socket
import ssl
import stat
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server import Server  # noqa: E402

RECORDS = 2_000
PASSWORD = "correct horse battery staple"
MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


STARTED = time.time()


def step(name):
    print("ok   %s (%.0f s)" % (name, time.time() - STARTED), flush=True)


def tool_run(tool, args, password=None):
    return subprocess.run([tool] + args, input=(password + "\n") if password is not None else None,
                          capture_output=True, text=True, timeout=60)


def make_certificate(folder):
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def confluent_settings(server, cert, mechanism, user="alice", password=PASSWORD, protocol="SASL_SSL"):
    settings = {"bootstrap.servers": server.bootstrap, "security.protocol": protocol, "sasl.mechanism": mechanism,
                "sasl.username": user, "sasl.password": password}
    if cert:
        settings["ssl.ca.location"] = cert
    return settings


def python_settings(server, cert, mechanism, user="alice", password=PASSWORD, protocol="SASL_SSL"):
    settings = {"bootstrap_servers": server.bootstrap, "security_protocol": protocol, "sasl_mechanism": mechanism,
                "sasl_plain_username": user, "sasl_plain_password": password}
    if cert:
        settings["ssl_cafile"] = cert
    return settings


def confluent_round_trip(server, cert, mechanism, topic, protocol="SASL_SSL"):
    from confluent_kafka import Consumer, Producer
    settings = confluent_settings(server, cert, mechanism, protocol=protocol)
    producer = Producer(dict(settings, **{"linger.ms": 5, "acks": "all", "enable.idempotence": True}))
    errors = []
    for i in range(RECORDS):
        producer.produce(topic, key=b"k%d" % (i % 50), value=b"confluent-%d" % i,
                         on_delivery=lambda err, msg: errors.append(err) if err else None)
        if i % 500 == 0:
            producer.poll(0)
    check(producer.flush(60) == 0 and not errors, "confluent-kafka %s could not deliver: %s" % (mechanism, errors[:3]))
    consumer = Consumer(dict(settings, **{"group.id": "secure-" + topic, "auto.offset.reset": "earliest"}))
    consumer.subscribe([topic])
    values = set()
    deadline = time.time() + 60
    while len(values) < RECORDS and time.time() < deadline:
        message = consumer.poll(1.0)
        if message is not None and message.error() is None and message.value().startswith(b"confluent-"):
            values.add(message.value())
    consumer.close()
    check(len(values) == RECORDS, "confluent-kafka %s consumed %d of %d records" % (mechanism, len(values), RECORDS))


def python_round_trip(server, cert, mechanism, topic, protocol="SASL_SSL"):
    from kafka import KafkaConsumer, KafkaProducer
    settings = python_settings(server, cert, mechanism, protocol=protocol)
    producer = KafkaProducer(acks="all", linger_ms=5, **settings)
    for i in range(RECORDS):
        producer.send(topic, key=b"k%d" % (i % 50), value=b"python-%d" % i)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(topic, group_id="python-" + topic, auto_offset_reset="earliest", consumer_timeout_ms=10000, **settings)
    values = set()
    for message in consumer:
        if message.value.startswith(b"python-"):
            values.add(message.value)
        if len(values) == RECORDS:
            break
    consumer.close()
    check(len(values) == RECORDS, "kafka-python %s consumed %d of %d records" % (mechanism, len(values), RECORDS))


def confluent_login_fails(settings):
    """True when librdkafka is refused with these settings: its error callback reports an
    authentication failure or a broker it cannot talk to, or metadata never arrives."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient
    errors = []
    # The refusals are expected: keep librdkafka's log of each retry off the output.
    admin = AdminClient(dict(settings, **{"log_level": 0, "error_cb": errors.append}))
    refused = {KafkaError._AUTHENTICATION, KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._SSL}
    deadline = time.time() + 8
    while time.time() < deadline:
        try:
            admin.list_topics(timeout=0.5)
            return False
        except KafkaException:
            pass
        admin.poll(0.1)
        if any(error.code() in refused for error in errors):
            return True
    return True


def python_login_fails(settings):
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError
    try:
        admin = KafkaAdminClient(request_timeout_ms=8000, api_version_auto_timeout_ms=8000, **settings)
        admin.list_topics()
        admin.close()
        return False
    except (KafkaError, ssl.SSLError, OSError):
        return True


def frame(api_key, version, correlation, body=b""):
    client = b"checks"
    header = struct.pack(">hhih", api_key, version, correlation, len(client)) + client
    return struct.pack(">i", len(header) + len(body)) + header + body


def read_frame(connection):
    data = b""
    while len(data) < 4:
        chunk = connection.recv(4 - len(data))
        if not chunk:
            return None
        data += chunk
    (length,) = struct.unpack(">i", data)
    body = b""
    while len(body) < length:
        chunk = connection.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return body


def tls_connection(server, cert):
    context = ssl.create_default_context(cafile=cert)
    return context.wrap_socket(socket.create_connection(("127.0.0.1", server.port), timeout=5), server_hostname="127.0.0.1")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--keep", action="store_true", help="keep the folder with the store, users file and logs")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="kafka-security-")
    try:
        run(args.tool, folder)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print("all Kafka security checks passed")


def run(tool, folder):
    cert, key = make_certificate(folder)
    users = os.path.join(folder, "users.txt")
    check_users_command(tool, users)
    check_refusals(tool, folder, users, cert, key)
    server = Server(tool, os.path.join(folder, "store"), ["--tls-cert", cert, "--tls-key", key, "--users", users]).start()
    try:
        for mechanism in MECHANISMS:
            topic = "secure-" + mechanism.lower()
            confluent_round_trip(server, cert, mechanism, topic)
            python_round_trip(server, cert, mechanism, topic)
            step("SASL_SSL %s: %d records each from confluent-kafka and kafka-python, consumed back in groups" % (mechanism, RECORDS))
        check_kcat(server, cert)
        check_wrong_logins(server, cert)
        check_raw_connections(server, cert)
        check_admin(server, cert)
        check_users_change_while_serving(tool, server, cert, users)
        check_mirror(tool, folder, server, cert)
        check(server.alive(), "the server is still running")
    finally:
        server.stop()
    check_sasl_without_tls(tool, folder, users)


def mirror_run(tool, args, password=PASSWORD, timeout=60):
    environment = dict(os.environ)
    environment.pop("STREAM_TOOL_SASL_PASSWORD", None)
    if password is not None:
        environment["STREAM_TOOL_SASL_PASSWORD"] = password
    started = time.time()
    result = subprocess.run([tool, "mirror"] + args, capture_output=True, text=True, timeout=timeout, env=environment)
    return result, time.time() - started


def check_mirror(tool, folder, server, cert):
    """stream-tool mirror as a client of a TLS + SASL cluster: a copy there and back with SCRAM
    and PLAIN; a wrong password, an untrusted certificate and PLAIN without TLS stop it at once."""
    source, back = os.path.join(folder, "mirror-source"), os.path.join(folder, "mirror-back")
    check(tool_run(tool, ["create", "mirrored", "--partitions", "2", "--store", source]).returncode == 0, "create mirrored")
    lines = "".join('{"key":"k%d","value":"v%d","headers":{"n":"%d"}}\n' % (i, i, i) for i in range(500))
    produced = subprocess.run([tool, "produce", "mirrored", "--format", "json", "--store", source], input=lines,
                              capture_output=True, text=True, timeout=60)
    check(produced.returncode == 0, "produce for the mirror: %s" % produced.stderr)
    secure = ["--tls-ca-file", cert, "--sasl-user", "alice"]
    to, _ = mirror_run(tool, ["--to", server.bootstrap, "mirrored", "--store", source, "--sasl-mechanism", "SCRAM-SHA-256"] + secure)
    check(to.returncode == 0 and "mirrored 500 records" in to.stderr, "mirror --to over SASL_SSL (SCRAM-SHA-256): %s" % to.stderr)
    password_file = os.path.join(folder, "mirror-password")
    with open(password_file, "w") as f:
        f.write(PASSWORD + "\n")
    back_run, _ = mirror_run(tool, ["--from", server.bootstrap, "mirrored", "--store", back, "--sasl-mechanism", "PLAIN",
                                    "--sasl-password-file", password_file] + secure, password=None)
    check(back_run.returncode == 0 and "mirrored 500 records" in back_run.stderr, "mirror --from over SASL_SSL (PLAIN): %s" % back_run.stderr)
    original = tool_run(tool, ["replay", "mirrored", "--from-beginning", "--format", "json", "--store", source]).stdout
    copied = tool_run(tool, ["replay", "mirrored", "--from-beginning", "--format", "json", "--store", back]).stdout
    check(len(original.splitlines()) == 500 and original == copied, "the records mirrored there and back are equal")
    wrong, seconds = mirror_run(tool, ["--to", server.bootstrap, "mirrored", "--store", source, "--name", "wrong"] + secure, password="wrong")
    check(wrong.returncode == 1 and "Login to" in wrong.stderr and "failed" in wrong.stderr and seconds < 20,
          "a wrong password stops the mirror at once (%.1f s): %s" % (seconds, wrong.stderr))
    untrusted, seconds = mirror_run(tool, ["--to", server.bootstrap, "mirrored", "--store", source, "--name", "untrusted", "--tls", "--sasl-user", "alice"])
    check(untrusted.returncode == 1 and "TLS with" in untrusted.stderr and seconds < 20,
          "a certificate the system does not trust stops the mirror at once (%.1f s): %s" % (seconds, untrusted.stderr))
    plain, _ = mirror_run(tool, ["--to", server.bootstrap, "mirrored", "--store", source, "--sasl-user", "alice", "--sasl-mechanism", "PLAIN"])
    check(plain.returncode != 0 and "PLAIN sends the password in the clear" in plain.stderr, "PLAIN without TLS is refused: %s" % plain.stderr)
    missing, _ = mirror_run(tool, ["--to", server.bootstrap, "mirrored", "--store", source] + secure, password=None)
    check(missing.returncode == 1 and "STREAM_TOOL_SASL_PASSWORD" in missing.stderr, "a missing password is named: %s" % missing.stderr)
    step("stream-tool mirror over SASL_SSL: --to with SCRAM-SHA-256, --from with PLAIN, records equal; wrong password, untrusted certificate, PLAIN without TLS refused")


def check_users_command(tool, users):
    added = tool_run(tool, ["users", "add", "--file", users, "alice"], PASSWORD)
    check(added.returncode == 0, "users add failed: %s" % added.stderr)
    check(stat.S_IMODE(os.stat(users).st_mode) == 0o600, "the users file is created 0600")
    with open(users) as text:
        content = text.read()
    check(PASSWORD not in content and "alice SCRAM-SHA-256 4096 " in content and "alice SCRAM-SHA-512 4096 " in content,
          "the users file holds salted credentials of both mechanisms, not the password")
    only = tool_run(tool, ["users", "add", "--file", users, "--mechanism", "SCRAM-SHA-512", "--iterations", "8192", "bob"], "bob's password")
    check(only.returncode == 0, "users add --mechanism failed: %s" % only.stderr)
    listed = tool_run(tool, ["users", "list", "--file", users])
    check(listed.returncode == 0 and "alice" in listed.stdout and "bob" in listed.stdout, "users list: %s" % listed.stdout)
    check("SCRAM-SHA-256, SCRAM-SHA-512" in listed.stdout, "users list shows alice's two mechanisms: %s" % listed.stdout)
    removed = tool_run(tool, ["users", "remove", "--file", users, "bob"])
    check(removed.returncode == 0 and "bob" not in tool_run(tool, ["users", "list", "--file", users]).stdout, "users remove")
    missing = tool_run(tool, ["users", "remove", "--file", users, "bob"])
    check(missing.returncode == 1 and missing.stderr.startswith("error:"), "removing a missing user is an error")
    empty = tool_run(tool, ["users", "add", "--file", users, "carol"], "")
    check(empty.returncode == 1 and "empty" in empty.stderr, "an empty password is refused: %s" % empty.stderr)
    step("users add/list/remove: salted SCRAM credentials in a 0600 file, no password stored")


def check_refusals(tool, folder, users, cert, key):
    store = os.path.join(folder, "refused-store")
    plain = tool_run(tool, ["serve", "--store", store, "--listen", "0.0.0.0:0"])
    check(plain.returncode == 1 and "without TLS and SASL" in plain.stderr and "--insecure-allow-plaintext-on-network" in plain.stderr,
          "a network address without TLS and SASL is refused: %s" % plain.stderr)
    half = tool_run(tool, ["serve", "--store", store, "--listen", "0.0.0.0:0", "--users", users])
    check(half.returncode == 1 and "without TLS:" in half.stderr, "a network address without TLS is refused: %s" % half.stderr)
    os.chmod(users, 0o644)
    try:
        loose = tool_run(tool, ["serve", "--store", store, "--listen", "127.0.0.1:0", "--users", users])
        check(loose.returncode == 1 and "chmod 600" in loose.stderr, "a users file others may read is refused: %s" % loose.stderr)
    finally:
        os.chmod(users, 0o600)
    wrong_key = tool_run(tool, ["serve", "--store", store, "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", cert])
    check(wrong_key.returncode == 1 and "private key" in wrong_key.stderr, "a certificate given as key is refused: %s" % wrong_key.stderr)
    step("serve refuses a network address without TLS and SASL, a users file others may read, and a bad key")


def check_kcat(server, cert):
    settings = ["-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=SCRAM-SHA-256", "-X", "sasl.username=alice",
                "-X", "sasl.password=" + PASSWORD, "-X", "ssl.ca.location=" + cert]
    listing = subprocess.run(["kcat", "-b", server.bootstrap, "-L"] + settings, capture_output=True, text=True, timeout=60)
    check(listing.returncode == 0 and "secure-scram-sha-256" in listing.stdout, "kcat -L over SASL_SSL: %s" % listing.stderr)
    consumed = subprocess.run(["kcat", "-b", server.bootstrap, "-C", "-t", "secure-scram-sha-256", "-o", "beginning", "-e", "-q"] + settings,
                              capture_output=True, text=True, timeout=60)
    check(consumed.returncode == 0 and len(consumed.stdout.splitlines()) == 2 * RECORDS,
          "kcat -C read %d of %d records: %s" % (len(consumed.stdout.splitlines()), 2 * RECORDS, consumed.stderr))
    step("kcat -X security.protocol=SASL_SSL: -L and -C -o beginning -e")


def check_wrong_logins(server, cert):
    for mechanism in MECHANISMS:
        check(confluent_login_fails(confluent_settings(server, cert, mechanism, password="wrong")),
              "confluent-kafka logged in with a wrong password (%s)" % mechanism)
        check(python_login_fails(python_settings(server, cert, mechanism, password="wrong")),
              "kafka-python logged in with a wrong password (%s)" % mechanism)
    check(confluent_login_fails(confluent_settings(server, cert, "SCRAM-SHA-256", user="mallory")), "an unknown user logged in")
    check(confluent_login_fails({"bootstrap.servers": server.bootstrap, "security.protocol": "SSL", "ssl.ca.location": cert}),
          "a client without SASL got metadata")
    check(confluent_login_fails({"bootstrap.servers": server.bootstrap}), "a plaintext client got metadata from the TLS listener")
    step("wrong passwords, unknown users, TLS without SASL and plaintext clients are refused")


def check_raw_connections(server, cert):
    # Plaintext bytes on the TLS listener: no answer, the connection closes.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(frame(18, 0, 1))
        try:
            answer = raw.recv(64)
        except ConnectionResetError:
            answer = b""
    check(answer == b"" or answer[:1] == b"\x15", "a plaintext request on the TLS listener got a Kafka answer: %r" % answer)
    # Over TLS, before a login: ApiVersions is answered, Metadata closes the connection.
    with tls_connection(server, cert) as connection:
        connection.sendall(frame(18, 0, 1))
        versions = read_frame(connection)
        check(versions is not None and versions[:4] == struct.pack(">i", 1), "ApiVersions is answered before a login")
        connection.sendall(frame(3, 1, 2, struct.pack(">i", -1)))
        check(read_frame(connection) is None, "Metadata before a login was answered")
    # A SaslAuthenticate without a handshake: ILLEGAL_SASL_STATE (34), then the close.
    with tls_connection(server, cert) as connection:
        connection.sendall(frame(36, 0, 1, struct.pack(">i", 3) + b"abc"))
        answer = read_frame(connection)
        check(answer is not None and answer[4:6] == struct.pack(">h", 34), "SaslAuthenticate first: %r" % answer)
        check(read_frame(connection) is None, "the connection closes after ILLEGAL_SASL_STATE")
    # An unauthenticated client may not send a large frame.
    with tls_connection(server, cert) as connection:
        try:
            connection.sendall(struct.pack(">i", 1 << 20) + b"\x00" * 65536)
            closed = read_frame(connection) is None
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            closed = True
        check(closed, "a 1 MiB frame before a login was accepted")
    step("over raw sockets: plaintext on TLS, requests before a login, SaslAuthenticate first and large frames are refused")


def check_admin(server, cert):
    from confluent_kafka.admin import AdminClient, ConfigResource
    admin = AdminClient(confluent_settings(server, cert, "SCRAM-SHA-512"))
    resource = ConfigResource(ConfigResource.Type.TOPIC, "secure-plain")
    configs = admin.describe_configs([resource])[resource].result(timeout=30)
    check(configs["cleanup.policy"].value == "delete" and "retention.ms" in configs, "confluent describe_configs: %s" % list(configs))
    broker = ConfigResource(ConfigResource.Type.BROKER, "0")
    broker_configs = admin.describe_configs([broker])[broker].result(timeout=30)
    check("SCRAM-SHA-256" in broker_configs["sasl.enabled.mechanisms"].value, "the broker's mechanisms are described")
    cluster = admin.describe_cluster().result(timeout=30)
    check(cluster.cluster_id == "streamstore" and len(cluster.nodes) == 1 and cluster.controller.id == 0,
          "confluent describe_cluster: %s" % cluster)
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource as PythonConfigResource, ConfigResourceType
    python_admin = KafkaAdminClient(**python_settings(server, cert, "SCRAM-SHA-256"))
    # kafka-python's default filter keeps only settings changed from their defaults.
    described = python_admin.describe_configs([PythonConfigResource(ConfigResourceType.TOPIC, "secure-plain")], config_filter="all")
    topic_configs = described.get("topic", {}).get("secure-plain", {})
    check(topic_configs.get("cleanup.policy", {}).get("value") == "delete" and "retention.ms" in topic_configs,
          "kafka-python describe_configs: %s" % repr(described)[:300])
    python_cluster = python_admin.describe_cluster()
    check(python_cluster.get("cluster_id") == "streamstore", "kafka-python describe_cluster: %s" % python_cluster)
    python_admin.close()
    step("DescribeConfigs (topic and broker) and DescribeCluster from confluent-kafka's and kafka-python's admin clients")


def check_users_change_while_serving(tool, server, cert, users):
    check(confluent_login_fails(confluent_settings(server, cert, "SCRAM-SHA-256", user="dave", password="dave's")), "dave before he exists")
    check(tool_run(tool, ["users", "add", "--file", users, "dave"], "dave's").returncode == 0, "users add dave")
    check(not confluent_login_fails(confluent_settings(server, cert, "SCRAM-SHA-256", user="dave", password="dave's")), "dave after users add")
    check(tool_run(tool, ["users", "remove", "--file", users, "dave"]).returncode == 0, "users remove dave")
    check(confluent_login_fails(confluent_settings(server, cert, "SCRAM-SHA-256", user="dave", password="dave's")), "dave after users remove")
    step("users added and removed while the server runs take effect at the next login")


def check_sasl_without_tls(tool, folder, users):
    server = Server(tool, os.path.join(folder, "store-plaintext"), ["--users", users]).start()
    try:
        python_round_trip(server, None, "SCRAM-SHA-256", "scram-plaintext", protocol="SASL_PLAINTEXT")
        check(confluent_login_fails(confluent_settings(server, None, "PLAIN", protocol="SASL_PLAINTEXT")),
              "PLAIN was accepted without TLS")
    finally:
        server.stop()
    step("without TLS: SCRAM over SASL_PLAINTEXT works, PLAIN is not offered")


if __name__ == "__main__":
    main()
