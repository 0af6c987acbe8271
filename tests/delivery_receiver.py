"""A real webhook receiver for the delivery tests and benchmark: an HTTP server on 127.0.0.1 that
verifies Standard Webhooks signatures (with the `standardwebhooks` library, not our own code),
deduplicates on the idempotency key and counts, per key, how often it arrived and how often it
was processed. Faults on demand: down (stopped, then started again on the same port), HTTP 500
for the first arrivals of some keys, and answers slower than the sender's timeout (processed
first, answered late: the sender's retry must then not be processed twice). `Proxy` puts a cuttable TCP
hop in front of the shared RabbitMQ."""

import contextlib
import json
import socket
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # a test-only secret (base64 of 24 bytes)


class Receiver:
    def __init__(self, secret: str = SECRET, fail_first=lambda key: 0, slow=lambda key: 0.0):
        self.verifier = Webhook(secret)
        self.fail_first, self.slow = fail_first, slow
        self.arrivals: Counter = Counter()  # idempotency key -> times it arrived
        self.keys: set[str] = set()  # idempotency keys processed
        self.processed: Counter = Counter()  # outbox id -> times processed
        self.order: dict[str, list[int]] = defaultdict(list)  # subject -> outbox ids as processed
        self.refused: list[str] = []
        self.lock = threading.Lock()
        self.server = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    receiver.verifier.verify(body, dict(self.headers.items()))
                except WebhookVerificationError as exc:
                    with receiver.lock:
                        receiver.refused.append(str(exc))
                    return self._answer(401, {"error": str(exc)})
                key = self.headers.get("idempotency-key")
                with receiver.lock:
                    receiver.arrivals[key] += 1
                    arrival = receiver.arrivals[key]
                if arrival <= receiver.fail_first(key):
                    return self._answer(500, {"error": "try again"})
                message = json.loads(body)
                with receiver.lock:  # dedup on the key; processing counted per message (outbox id)
                    if key not in receiver.keys:
                        receiver.keys.add(key)
                        receiver.processed[message["outbox_id"]] += 1
                        receiver.order[f"{message['plant_id']}|{message['payload'].get('subject_id')}"].append(
                            message["outbox_id"]
                        )
                delay = receiver.slow(key) if arrival == 1 else 0.0
                if delay:
                    time.sleep(delay)
                self._answer(200, {"document_number": f"PR-{key}"})

            def _answer(self, status, document):
                data = json.dumps(document).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def reserve_port(self) -> "Receiver":
        """Pick a free port and stay down (the receiver is 'down for a while' from the start)."""
        self.start()
        self.stop()
        return self

    def duplicates_processed(self) -> int:
        return sum(n - 1 for n in self.processed.values() if n > 1)


class Proxy:
    """A TCP proxy in front of the broker that can cut every connection and refuse new ones for a
    while: to the deliverer it looks like a broker restart, without restarting the shared broker."""

    def __init__(self, upstream=("127.0.0.1", 5672)):
        self.upstream, self.up, self.pairs = upstream, True, []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(self.upstream)
            for s in (client, server):  # no Nagle delay: every publish waits for its confirm
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.pairs.append((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()

    def cut(self):
        self.up = False
        for pair in self.pairs:
            for s in pair:
                with contextlib.suppress(OSError):
                    s.close()
        self.pairs.clear()

    def close(self):
        self.cut()
        self.listener.close()
