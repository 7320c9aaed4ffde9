"""A real HTTP receiver (on 127.0.0.1, or another address of this machine) that records every
webhook POST it gets."""
import ssl
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


class Receiver:
    def __init__(self, tls=None, host="127.0.0.1"):
        self.requests = []  # (path, headers dict, body str), in arrival order
        self.responses = deque()  # status codes (or (status, headers)) to answer next; then 200
        self.delay = 0
        self.body_size = 2  # bytes of each answer's body
        self.unsent = []  # per answer cut short by the sender: bytes it could not write
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                with receiver._lock:
                    receiver.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    answer = receiver.responses.popleft() if receiver.responses else 200
                time.sleep(receiver.delay)
                status, headers = answer if isinstance(answer, tuple) else (answer, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(receiver.body_size))
                self.end_headers()
                left, chunk = receiver.body_size, b"k" * 65536
                try:
                    while left > 0:
                        self.wfile.write(chunk[:left])
                        left -= min(left, len(chunk))
                except OSError:  # the sender hung up
                    receiver.unsent.append(left)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        if tls:  # (certificate file, key file): serve HTTPS
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path="/hook"):
        host, port = self.server.server_address[:2]
        return f"{self.scheme}://{host}:{port}{path}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def verified(self, secret, path=None):
        """Every request (to `path`, if given) verified with `standardwebhooks`: [(headers, payload)].

        Raises WebhookVerificationError if any signature does not match.
        """
        hook = Webhook(secret)
        return [(headers, hook.verify(body, headers)) for p, headers, body in list(self.requests)
                if path is None or p == path]

    def wait_for(self, count, seconds=20):
        """True once `count` requests have arrived (False after `seconds`)."""
        from tests.test_jobs import wait_for

        return wait_for(lambda: len(self.requests) >= count, seconds)

