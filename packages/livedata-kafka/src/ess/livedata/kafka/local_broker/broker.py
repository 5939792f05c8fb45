"""A real single-node Apache Kafka broker (KRaft) for tests and demos.

The broker is the upstream Java implementation, resolved from Maven Central
with Maven and run on the machine's Java (17 or newer). Testing against the
real broker rather than a mock catches protocol, size-limit and
consumer-group behaviour that only a broker has; fetching with Maven avoids
both Docker and the Apache download mirrors.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
import weakref
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import (
    AdminClient,
    NewTopic,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from ess.livedata.core.processes import die_with_parent

logger = logging.getLogger(__name__)

KAFKA_VERSION = "4.3.1"

_HERE = Path(__file__).parent
_POM = _HERE / "pom.xml"
_LOG4J_CONFIG = _HERE / "log4j2.properties"
_MARKER = ".complete"
_MAVEN_TIMEOUT_S = 900
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # Maven colours even with -B
_JVM_OPTIONS = (
    "-Xmx1g",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
# Large ev44/da00 messages are normal at ESS: allow up to 16 MiB per message.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
_CHECK_TOPIC = "livedata-broker-check"
_CHECK_GROUP = "livedata-broker-check"
# librdkafka's own log lines go through Python logging instead of stderr.
_client_logger = logging.getLogger(f"{__name__}.client")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-512")
"""What the SASL listener accepts, see ``LocalKafkaBroker(sasl_users=...)``."""
_SASL_USER = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SCRAM_ITERATIONS = 4096


class LocalBrokerError(RuntimeError):
    """The local broker could not be fetched, started or checked."""


class MissingToolError(LocalBrokerError):
    """A program the local broker needs (``java`` or ``mvn``) is not on PATH."""

    def __init__(self, tool: str, purpose: str) -> None:
        super().__init__(
            f"'{tool}' not found on PATH: it is needed to {purpose}. "
            "Install Java 17+ and Maven (e.g. apt-get install openjdk-17-jre-headless"
            " maven)."
        )
        self.tool = tool


def default_cache_dir() -> Path:
    """Where fetched jars live: ``$LIVEDATA_CACHE_DIR`` or ``~/.cache/livedata``."""
    env = os.environ.get("LIVEDATA_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "livedata"


def _java() -> str:
    # JAVA_HOME wins so that a developer can pick a JDK without touching PATH.
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (candidate := Path(java_home) / "bin" / "java").is_file():
        return str(candidate)
    java = shutil.which("java")
    if java is None:
        raise MissingToolError("java", "run the Kafka broker")
    return java


def _pom_digest() -> str:
    return hashlib.sha256(_POM.read_bytes()).hexdigest()


def _is_complete(libs: Path, digest: str) -> bool:
    marker = libs / _MARKER
    return marker.is_file() and marker.read_text().strip() == digest


def fetch_kafka(cache_dir: Path | None = None) -> Path:
    """Return the folder holding the Kafka broker jars, fetching them if needed.

    Maven runs only on the first call per cache (and again if ``pom.xml``
    changes). Jars are copied into a temporary folder that is renamed into
    place, under a file lock, so concurrent test sessions never see a
    half-filled folder.

    Parameters
    ----------
    cache_dir:
        Cache root; defaults to :func:`default_cache_dir`.

    Returns
    -------
    :
        ``<cache_dir>/kafka-<version>/libs``, suitable for ``java -cp 'libs/*'``.
    """
    root = (cache_dir or default_cache_dir()) / f"kafka-{KAFKA_VERSION}"
    libs = root / "libs"
    digest = _pom_digest()
    if _is_complete(libs, digest):
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise MissingToolError("mvn", f"fetch Kafka {KAFKA_VERSION} from Maven Central")
    _java()  # Maven needs it too; fail with the clearer message.
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LocalBrokerError(
            f"cannot create the jar cache {root} (LIVEDATA_CACHE_DIR): {error.strerror}"
        ) from None
    with open(root / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("Waiting for another process fetching Kafka into %s", root)
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not _is_complete(libs, digest):
            _copy_dependencies(mvn, root, libs, digest)
    return libs


def _copy_dependencies(mvn: str, root: Path, libs: Path, digest: str) -> None:
    logger.info(
        "Fetching Kafka %s jars with Maven into %s (first run only)",
        KAFKA_VERSION,
        libs,
    )
    start = time.monotonic()
    for leftover in [*root.glob("libs.tmp-*"), *root.glob("libs.old-*")]:
        shutil.rmtree(leftover, ignore_errors=True)  # from a killed fetch
    staging = Path(tempfile.mkdtemp(prefix="libs.tmp-", dir=root))
    try:
        with tempfile.TemporaryDirectory(prefix="livedata-kafka-pom-") as project:
            pom = Path(shutil.copy(_POM, project))
            result = subprocess.run(
                [
                    mvn,
                    "-q",
                    "-B",
                    "-Dstyle.color=never",
                    "-f",
                    str(pom),
                    "dependency:copy-dependencies",
                    f"-DoutputDirectory={staging}",
                ],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=_MAVEN_TIMEOUT_S,
                check=False,
            )
        if result.returncode != 0:
            output = _ANSI_ESCAPE.sub("", result.stdout + result.stderr).strip()
            raise LocalBrokerError(
                f"Maven failed to fetch Kafka {KAFKA_VERSION} "
                f"(exit {result.returncode}):\n{_tail(output)}"
            )
        if not (staging / f"kafka_2.13-{KAFKA_VERSION}.jar").is_file():
            raise LocalBrokerError(f"Maven did not produce the Kafka jar in {staging}")
        (staging / _MARKER).write_text(digest + "\n")
        if libs.exists():  # stale: fetched with a different pom.xml
            stale = Path(tempfile.mkdtemp(prefix="libs.old-", dir=root))
            libs.rename(stale / "libs")
            shutil.rmtree(stale)
        staging.rename(libs)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    jars = sum(1 for _ in libs.glob("*.jar"))
    logger.info(
        "Fetched %d jars in %.1f s into %s", jars, time.monotonic() - start, libs
    )


def _free_port() -> int:
    # The port could be taken again before the broker binds it; on a test
    # machine that is rare, and the broker then fails with a clear log line.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _random_cluster_id() -> str:
    # Same format as ``kafka-storage random-uuid``; saves starting a JVM.
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


class LocalKafkaBroker:
    """A single-node KRaft Kafka broker running as a child process.

    Parameters
    ----------
    port:
        Client (PLAINTEXT) port on 127.0.0.1; a free one if ``None``.
    data_dir:
        Holds ``server.properties``, the Kafka log directory and, by default,
        the broker log. A temporary directory, removed when this object is
        garbage collected or the context exits, if ``None``. Reusing a
        directory keeps topics, messages and committed offsets.
    log_file:
        Broker stdout/stderr and log4j output; ``<data_dir>/broker.log`` by
        default.
    extra_properties:
        Broker properties that override the defaults.
    sasl_users:
        User names and passwords; if given, a second client listener with
        ``SASL_PLAINTEXT`` on :attr:`sasl_bootstrap_servers` authenticates
        them with ``PLAIN`` or ``SCRAM-SHA-512`` (the SCRAM credentials are
        stored in the cluster metadata by :meth:`start`). The PLAINTEXT
        listener stays open, unauthenticated, for tests' own clients. The
        passwords are written to ``server.properties`` in ``data_dir``: test
        credentials only.
    sasl_port:
        Port of the SASL listener; a free one if ``None``.
    """

    def __init__(
        self,
        port: int | None = None,
        data_dir: Path | None = None,
        log_file: Path | None = None,
        extra_properties: Mapping[str, str] | None = None,
        sasl_users: Mapping[str, str] | None = None,
        sasl_port: int | None = None,
    ) -> None:
        self._port = port or _free_port()
        self._controller_port = _free_port()
        self._sasl_users = dict(sasl_users or {})
        for name, password in self._sasl_users.items():
            if not _SASL_USER.match(name):
                raise ValueError(f"SASL user name {name!r}: use [A-Za-z0-9_.-]")
            if not password or any(c in password for c in '\\"\n\r'):
                # Kept out rather than escaped twice (JAAS, then .properties).
                raise ValueError(
                    f"SASL user {name!r}: password must be non-empty, without"
                    " backslash, quote or line break"
                )
        self._sasl_port = (sasl_port or _free_port()) if self._sasl_users else None
        self._remove_data_dir: weakref.finalize[..., LocalKafkaBroker] | None = None
        if data_dir is None:
            data_dir = Path(tempfile.mkdtemp(prefix="livedata-kafka-"))
            self._remove_data_dir = weakref.finalize(
                self, shutil.rmtree, data_dir, ignore_errors=True
            )
        self._data_dir = Path(data_dir)
        self._log_path = Path(log_file) if log_file else self._data_dir / "broker.log"
        self._extra_properties = dict(extra_properties or {})
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for the ``bootstrap.servers`` client setting."""
        return f"127.0.0.1:{self._port}"

    @property
    def sasl_bootstrap_servers(self) -> str:
        """``host:port`` of the SASL_PLAINTEXT listener (needs ``sasl_users``)."""
        if self._sasl_port is None:
            raise LocalBrokerError("this broker has no SASL listener (no sasl_users)")
        return f"127.0.0.1:{self._sasl_port}"

    @property
    def port(self) -> int:
        """The client port; kept across :meth:`restart`."""
        return self._port

    @property
    def data_dir(self) -> Path:
        """Configuration, Kafka log directory and (by default) the broker log."""
        return self._data_dir

    @property
    def log_path(self) -> Path:
        """The broker's log: look here first when the broker misbehaves."""
        return self._log_path

    @property
    def is_running(self) -> bool:
        """Whether the broker process is alive (not necessarily ready)."""
        return self._process is not None and self._process.poll() is None

    def properties(self) -> dict[str, str]:
        """The broker configuration written to ``server.properties``."""
        port, cport = self._port, self._controller_port
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{cport}",
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self._data_dir / "kraft-logs"),
            "num.partitions": "1",
            "offsets.topic.replication.factor": "1",
            # One broker gains nothing from 50 offset partitions; they only
            # slow down the first consumer group of every fresh data dir.
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true",
            "message.max.bytes": str(MAX_MESSAGE_BYTES),
            "replica.fetch.max.bytes": str(MAX_MESSAGE_BYTES),
        }
        if self._sasl_users:
            props.update(self._sasl_properties())
        props.update(self._extra_properties)
        return props

    def _sasl_properties(self) -> dict[str, str]:
        port, sasl, cport = self._port, self._sasl_port, self._controller_port
        listener = "listener.name.sasl_plaintext"
        plain_users = " ".join(
            f'user_{name}="{password}"'
            for name, password in sorted(self._sasl_users.items())
        )
        return {
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:{sasl},"
                f"CONTROLLER://127.0.0.1:{cport}"
            ),
            "advertised.listeners": (
                f"PLAINTEXT://127.0.0.1:{port},SASL_PLAINTEXT://127.0.0.1:{sasl}"
            ),
            "listener.security.protocol.map": (
                "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT"
            ),
            f"{listener}.sasl.enabled.mechanisms": ",".join(SASL_MECHANISMS),
            f"{listener}.plain.sasl.jaas.config": (
                "org.apache.kafka.common.security.plain.PlainLoginModule required "
                f"{plain_users};"
            ),
            f"{listener}.scram-sha-512.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
        }

    def start(self, timeout: float = 60) -> None:
        """Start the broker and return once it serves produce and consume.

        Fetches the jars on first use (see :func:`fetch_kafka`) and formats
        the storage if the data directory is new. Does nothing if already
        running.

        Raises
        ------
        MissingToolError
            ``java`` (or, on first use, ``mvn``) is not on PATH.
        LocalBrokerError
            The broker exited or was not ready within ``timeout`` seconds;
            the message ends with the tail of the broker log.
        """
        if self.is_running:
            return
        java = _java()
        libs = fetch_kafka()
        start = time.monotonic()
        deadline = start + timeout
        self._data_dir.mkdir(parents=True, exist_ok=True)
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_offset = (
            self._log_path.stat().st_size if self._log_path.exists() else 0
        )
        props = self.properties()
        config = self._data_dir / "server.properties"
        config.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        base = [
            java,
            *_JVM_OPTIONS,
            f"-Dlog4j2.configurationFile={_LOG4J_CONFIG}",
            "-cp",
            f"{libs}{os.sep}*",
        ]
        log_dirs = [Path(d) for d in props["log.dirs"].split(",")]
        if not all((d / "meta.properties").is_file() for d in log_dirs):
            self._format_storage(base, config)
        logger.info(
            "Starting Kafka %s broker on %s (log: %s)",
            KAFKA_VERSION,
            self.bootstrap_servers,
            self._log_path,
        )
        with open(self._log_path, "ab") as log:
            self._process = subprocess.Popen(
                [*base, "kafka.Kafka", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,  # Ctrl-C in a terminal reaches us, not the broker
                preexec_fn=die_with_parent(),
            )
        try:
            self._wait_until_ready(deadline)
        except (KafkaException, TimeoutError) as err:
            self.stop()
            raise LocalBrokerError(
                f"Kafka broker on {self.bootstrap_servers} failed its readiness "
                f"check: {err}\n{self._log_tail()}"
            ) from err
        except BaseException:  # also Ctrl-C: never leave a half-started broker
            self.stop()
            raise
        logger.info(
            "Kafka broker ready on %s in %.1f s",
            self.bootstrap_servers,
            time.monotonic() - start,
        )

    def stop(self, timeout: float = 20) -> None:
        """Shut the broker down cleanly; kill it after ``timeout`` seconds.

        Safe to call when not running.
        """
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is not None:
            logger.info("Kafka broker had already exited (code %s)", process.returncode)
            return
        logger.info("Stopping Kafka broker on %s", self.bootstrap_servers)
        start = time.monotonic()
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.warning(
                "Kafka broker did not stop within %.0f s; killing it", timeout
            )
        finally:
            # Also reached on Ctrl-C while waiting: never leave a broker behind.
            if process.poll() is None:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait()
        logger.info("Kafka broker stopped in %.1f s", time.monotonic() - start)

    def restart(self, timeout: float = 60) -> None:
        """Stop and start again on the same ports with the same data."""
        self.stop()
        self.start(timeout)

    def close(self) -> None:
        """Stop the broker and remove its data directory if it is temporary."""
        self.stop()
        if self._remove_data_dir is not None:
            self._remove_data_dir()

    def __enter__(self) -> LocalKafkaBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _format_storage(self, base: list[str], config: Path) -> None:
        logger.info("Formatting Kafka storage in %s", self._data_dir)
        with open(self._log_path, "ab") as log:
            result = subprocess.run(
                [
                    *base,
                    "kafka.tools.StorageTool",
                    "format",
                    "--ignore-formatted",
                    # "=": a random id may start with "-" and read as an option
                    f"--cluster-id={_random_cluster_id()}",
                    "-c",
                    str(config),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if result.returncode != 0:
            raise LocalBrokerError(
                f"Formatting Kafka storage failed (exit {result.returncode}):\n"
                f"{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        try:
            with open(self._log_path, "rb") as log:
                log.seek(self._log_offset)
                text = log.read().decode(errors="replace")
        except OSError as err:
            return f"(cannot read {self._log_path}: {err})"
        return f"--- last lines of {self._log_path} ---\n{_tail(text)}"

    def _remaining(self, deadline: float) -> float:
        """Seconds left; raises if the broker exited or the time is up."""
        process = self._process
        if process is None or process.poll() is not None:
            code = None if process is None else process.returncode
            raise LocalBrokerError(
                f"Kafka broker exited during startup (code {code}).\n{self._log_tail()}"
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LocalBrokerError(
                f"Kafka broker on {self.bootstrap_servers} not ready in time.\n"
                f"{self._log_tail()}"
            )
        return remaining

    def _wait_until_ready(self, deadline: float) -> None:
        # Wait for the port first so that clients do not log connection errors.
        while True:
            remaining = self._remaining(deadline)
            try:
                with socket.create_connection(
                    ("127.0.0.1", self._port), timeout=min(1.0, remaining)
                ):
                    break
            except OSError:
                time.sleep(0.1)
        client: dict[str, str | int | float | bool] = {
            "bootstrap.servers": self.bootstrap_servers
        }
        admin = AdminClient(client, logger=_client_logger)
        while True:
            remaining = self._remaining(deadline)
            try:
                admin.list_topics(timeout=min(2.0, remaining))
                break
            except KafkaException:
                time.sleep(0.1)
        self._create_check_topic(admin, deadline)
        self._round_trip(client, deadline)
        if self._sasl_users:
            self._add_scram_users(admin, deadline)

    def _add_scram_users(self, admin: AdminClient, deadline: float) -> None:
        """Store SCRAM-SHA-512 credentials, then wait until the SASL listener
        accepts one of them (credentials reach the listener asynchronously)."""
        upserts: list[UserScramCredentialAlteration] = [
            UserScramCredentialUpsertion(
                name,
                ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, _SCRAM_ITERATIONS),
                password.encode(),
            )
            for name, password in sorted(self._sasl_users.items())
        ]
        for future in admin.alter_user_scram_credentials(upserts).values():
            future.result(timeout=self._remaining(deadline))
        name, password = next(iter(sorted(self._sasl_users.items())))
        scram = AdminClient(
            {
                "bootstrap.servers": self.sasl_bootstrap_servers,
                "security.protocol": "SASL_PLAINTEXT",
                "sasl.mechanism": "SCRAM-SHA-512",
                "sasl.username": name,
                "sasl.password": password,
            },
            logger=_client_logger,
        )
        while True:
            remaining = self._remaining(deadline)
            try:
                scram.list_topics(timeout=min(1.0, remaining))
                return
            except KafkaException:
                time.sleep(0.2)

    def _create_check_topic(self, admin: AdminClient, deadline: float) -> None:
        while True:
            topic = NewTopic(_CHECK_TOPIC, 1, 1)
            future = admin.create_topics([topic])[_CHECK_TOPIC]
            try:
                future.result(timeout=self._remaining(deadline))
                return
            except KafkaException as err:
                error = err.args[0]
                if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                    return
                if not error.retriable():
                    raise
                time.sleep(0.2)

    def _round_trip(
        self, client: dict[str, str | int | float | bool], deadline: float
    ) -> None:
        # A consumer group (not a bare assign) so that the group coordinator
        # and __consumer_offsets are up before tests rely on them.
        token = uuid.uuid4().bytes
        errors: list[KafkaError] = []

        def on_delivery(err: KafkaError | None, _: object) -> None:
            if err is not None:
                errors.append(err)

        producer = Producer(client, logger=_client_logger)
        producer.produce(_CHECK_TOPIC, token, on_delivery=on_delivery)
        while producer.flush(min(0.5, self._remaining(deadline))):
            pass
        if errors:
            raise LocalBrokerError(
                f"Producing to the check topic failed: {errors[0]}\n{self._log_tail()}"
            )
        consumer = Consumer(
            {
                **client,
                "group.id": _CHECK_GROUP,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            },
            logger=_client_logger,
        )
        try:
            consumer.subscribe([_CHECK_TOPIC])
            while True:
                msg = consumer.poll(min(0.5, self._remaining(deadline)))
                if msg is not None and msg.error() is None and msg.value() == token:
                    consumer.commit(message=msg, asynchronous=False)
                    return
        finally:
            consumer.close()
