"""Starts and stops `stream-tool serve` on a free loopback port for the client checks."""
import os
import re
import signal
import subprocess
import time


class Server:
    def __init__(self, tool, store, extra_args=()):
        self.tool = tool
        self.extra_args = list(extra_args)
        self.store = store
        self.process = None
        self.port = None
        self.metrics_port = None
        self.log_path = os.path.join(store + ".logs", "serve.log")
        os.makedirs(os.path.dirname(self.log_path), exist_ok=True)

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        """Starts the server on port 0 and reads the bound port from its stderr."""
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [self.tool, "serve", "--store", self.store, "--listen", "127.0.0.1:0", "--log-level", "info", "--metrics-port", "0"] + self.extra_args,
            stdout=log, stderr=subprocess.PIPE, text=True)
        for line in self.process.stderr:
            log.write(line)
            log.flush()
            metrics = re.search(r"serving metrics at http://127\.0\.0\.1:(\d+)/metrics", line)
            if metrics:
                self.metrics_port = int(metrics.group(1))
            found = re.search(r"serving Kafka on 127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                break
        else:
            raise RuntimeError("the server exited before it listened; see %s" % self.log_path)
        # Keep draining stderr into the log so the server never blocks on a full pipe.
        import threading
        threading.Thread(target=self._drain, args=(log,), daemon=True).start()
        return self

    def _drain(self, log):
        for line in self.process.stderr:
            log.write(line)
            log.flush()

    def metrics(self):
        """The Prometheus text of `--metrics-port`: {(name, labels text): value}."""
        import urllib.request
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port, timeout=10).read().decode()
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name_labels, value = line.rsplit(" ", 1)
                name, _, labels = name_labels.partition("{")
                samples[(name, labels.rstrip("}"))] = float(value)
        return samples

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        """SIGTERM, then wait: the server answers what it read and closes the store."""
        if not self.alive():
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise RuntimeError("the server did not stop within 60 s of SIGTERM")
