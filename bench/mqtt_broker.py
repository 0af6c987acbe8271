"""A private Mosquitto for tests and benchmarks: its own port, config and persistence directory,
so a test can restart it or refuse logins without touching the shared broker on 1883."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """`start()`, `stop()` (SIGTERM: Mosquitto saves its sessions and queues to disk), `restart()`.

    persistence: queued QoS 1 messages survive a restart; max_queued_messages 0: the broker
    keeps every message for an absent collector (its default, 1000, drops the rest);
    max_inflight_messages: how many unacknowledged messages it sends a client at once (its
    default, 20, bounds the collector's batches). See docs/live-feeds.md."""

    def __init__(self, directory: Path, anonymous: bool = True, max_queued: int = 0, max_inflight: int = 20):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.config = self.directory / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"allow_anonymous {'true' if anonymous else 'false'}\n"
            f"persistence true\npersistence_location {self.directory}/\n"
            f"max_queued_messages {max_queued}\nmax_inflight_messages {max_inflight}\n"
            f"log_dest file {self.directory}/mosquitto.log\n" + ("user root\n" if os.geteuid() == 0 else "")
            # started as root, mosquitto drops to the `mosquitto` user, who cannot write here
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> "Broker":
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def restart(self, pause_s: float = 1.0) -> None:
        self.stop()
        time.sleep(pause_s)
        self.start()


def available() -> bool:
    return Path(MOSQUITTO).exists()
