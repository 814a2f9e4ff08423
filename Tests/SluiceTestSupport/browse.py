"""Drives headless Chromium over the DevTools protocol (--remote-debugging-pipe: fd 3 in,
fd 4 out, NUL-separated JSON; no extra packages) to load pages at a given viewport width,
run a script in each, and take a full-page screenshot.

Input (argv[1]): {"chromium": path, "pages": [{"url", "width", "height", "until", "script", "screenshot"}]}
("after_load": a command to run once the page has loaded; "until": a JavaScript condition to
wait for after that, checked on every DOM change, at most 20 s.)
Output (stdout): one JSON list, per page {"value": <what the script returned>, "error": ...}.
"""
import base64
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self, chromium):
        r_cmd, w_cmd = os.pipe()
        r_out, w_out = os.pipe()
        # Park every end above 10, so fds 3 and 4 are free to hand to Chromium.
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (r_cmd, w_cmd, r_out, w_out)]
        for fd in (r_cmd, w_cmd, r_out, w_out):
            os.close(fd)
        r_cmd, self.commands, self.events, w_out = ends
        os.dup2(r_cmd, 3)
        os.dup2(w_out, 4)
        self.profile = tempfile.mkdtemp(prefix="sluice-chromium-")
        self.process = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--remote-debugging-pipe", "--user-data-dir=" + self.profile, "about:blank"],
            pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in (3, 4, r_cmd, w_out):
            os.close(fd)
        self.next_id = 0
        self.buffer = b""
        self.pending = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.receive()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.pending.append(reply)

    def receive(self, timeout=60):
        deadline = time.time() + timeout
        while b"\0" not in self.buffer:
            if time.time() > deadline:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self.events, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium exited")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def wait_for(self, method, session, timeout=30):
        for i, event in enumerate(self.pending):
            if event.get("method") == method and event.get("sessionId") == session:
                del self.pending[i]
                return event
        deadline = time.time() + timeout
        while time.time() < deadline:
            event = self.receive(timeout=max(0.1, deadline - time.time()))
            if event.get("method") == method and event.get("sessionId") == session:
                return event
            self.pending.append(event)
        raise TimeoutError(f"no {method}")

    def visit(self, page):
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=session)
        width, height = page.get("width", 1280), page.get("height", 900)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}, session)
        self.send("Page.navigate", {"url": page["url"]}, session)
        self.wait_for("Page.loadEventFired", session)
        result = {}
        if page.get("after_load"):
            subprocess.run(page["after_load"], check=True, timeout=30)
        if page.get("until"):
            waited = self.send("Runtime.evaluate", {"awaitPromise": True, "returnByValue": True, "expression": """
                new Promise((resolve) => {
                  const met = () => { try { return Boolean(%s); } catch (e) { return false; } };
                  if (met()) return resolve(true);
                  const observer = new MutationObserver(() => { if (met()) { observer.disconnect(); resolve(true); } });
                  observer.observe(document, {subtree: true, childList: true, characterData: true});
                  setTimeout(() => { observer.disconnect(); resolve(met()); }, 20000);
                })""" % page["until"]}, session)
            result["until"] = waited.get("result", {}).get("value")
        if page.get("script"):
            evaluated = self.send("Runtime.evaluate", {"expression": page["script"], "returnByValue": True}, session)
            result["value"] = evaluated.get("result", {}).get("value")
            if "exceptionDetails" in evaluated:
                result["error"] = evaluated["exceptionDetails"].get("text")
        if page.get("screenshot"):
            metrics = self.send("Page.getLayoutMetrics", session=session)
            full = metrics.get("cssContentSize") or metrics["contentSize"]
            shot = self.send("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": min(full["height"], 6000), "scale": 1}}, session)
            with open(page["screenshot"], "wb") as out:
                out.write(base64.b64decode(shot["data"]))
        self.send("Target.closeTarget", {"targetId": target})
        return result

    def close(self):
        self.process.kill()
        self.process.wait()


def main():
    spec = json.load(open(sys.argv[1]))
    browser = Browser(spec["chromium"])
    try:
        print(json.dumps([browser.visit(page) for page in spec["pages"]]))
    finally:
        browser.close()


if __name__ == "__main__":
    main()
