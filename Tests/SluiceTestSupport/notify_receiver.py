"""A receiver for Sluice's notification deliveries, for the tests. Binds 127.0.0.1:0, prints
`PORT <n>`, and appends one JSON line per request to LOG: the path, the headers, the body and
whether the payload is valid for the format its path names. Each format is checked against its
documented structure and limits (not against Sluice's own code):

  /slack        Block Kit: `text` fallback, at most 50 blocks, header text <= 150, section and
                context text <= 3000 (<= 10 context elements), button text <= 75, url <= 3000
  /msteams      a Workflows webhook message: one Adaptive Card attachment (AdaptiveCard, a
                version, a body of TextBlock/FactSet, Action.OpenUrl actions)
  /googlechat   `text` and `cardsV2` (cardId, card.header.title, sections with widgets)
  /webhook      X-Sluice-Signature-256 = sha256=HMAC(SECRET, body), X-Sluice-Event, X-Sluice-Delivery
  /cloudevents  parsed with the CloudEvents SDK's HTTP parser (binary and structured modes)

An invalid payload is answered 400 with the reason. Options:
  --fail-first N   answer the first N requests 503 with Retry-After: 1
  --sleep S        take S seconds per request
  --secret S       the webhook HMAC key

    python3 notify_receiver.py LOG [--fail-first N] [--sleep S] [--secret S]
"""
import argparse
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cloudevents.v1.http import from_http

parser = argparse.ArgumentParser()
parser.add_argument("log")
parser.add_argument("--fail-first", type=int, default=0)
parser.add_argument("--sleep", type=float, default=0)
parser.add_argument("--secret", default="")
options = parser.parse_args()
lock = threading.Lock()
seen = {"requests": 0}


class Invalid(Exception):
    pass


def check(condition, why):
    if not condition:
        raise Invalid(why)


def check_slack(body, _headers):
    check(isinstance(body.get("text"), str) and body["text"], "slack: no text fallback")
    blocks = body.get("blocks")
    check(isinstance(blocks, list) and 0 < len(blocks) <= 50, "slack: blocks must be a list of 1 to 50")
    for block in blocks:
        kind = block.get("type")
        check(kind in {"header", "section", "context", "actions", "divider"}, f"slack: unexpected block type {kind}")
        if kind == "header":
            check(block["text"]["type"] == "plain_text" and 0 < len(block["text"]["text"]) <= 150, "slack: header text must be plain_text of 1..150")
        if kind == "section":
            check(block["text"]["type"] in {"mrkdwn", "plain_text"} and 0 < len(block["text"]["text"]) <= 3000, "slack: section text of 1..3000")
        if kind == "context":
            check(0 < len(block["elements"]) <= 10, "slack: context elements 1..10")
            for element in block["elements"]:
                check(0 < len(element["text"]) <= 3000, "slack: context text 1..3000")
        if kind == "actions":
            for element in block["elements"]:
                check(element["type"] == "button", "slack: only buttons")
                check(0 < len(element["text"]["text"]) <= 75, "slack: button text 1..75")
                check(element["url"].startswith("http") and len(element["url"]) <= 3000, "slack: button url")


def check_msteams(body, _headers):
    check(body.get("type") == "message", "teams: type must be message")
    attachments = body.get("attachments")
    check(isinstance(attachments, list) and len(attachments) == 1, "teams: one attachment")
    attachment = attachments[0]
    check(attachment.get("contentType") == "application/vnd.microsoft.card.adaptive", "teams: an Adaptive Card attachment")
    card = attachment["content"]
    check(card.get("type") == "AdaptiveCard" and isinstance(card.get("version"), str), "teams: AdaptiveCard with a version")
    check(all(item.get("type") in {"TextBlock", "FactSet", "ColumnSet", "Container"} for item in card["body"]), "teams: unexpected body element")
    for item in card["body"]:
        if item["type"] == "TextBlock":
            check(isinstance(item.get("text"), str) and item["text"], "teams: TextBlock without text")
        if item["type"] == "FactSet":
            check(all(set(f) == {"title", "value"} for f in item["facts"]), "teams: facts have title and value")
    for action in card.get("actions", []):
        check(action.get("type") == "Action.OpenUrl" and action["url"].startswith("http"), "teams: Action.OpenUrl with a URL")


def check_googlechat(body, _headers):
    check(isinstance(body.get("text"), str) and body["text"], "google chat: no text")
    cards = body.get("cardsV2")
    check(isinstance(cards, list) and cards, "google chat: cardsV2")
    for entry in cards:
        check(isinstance(entry.get("cardId"), str), "google chat: cardId")
        card = entry["card"]
        check(isinstance(card["header"]["title"], str), "google chat: header title")
        for section in card["sections"]:
            check(isinstance(section["widgets"], list) and section["widgets"], "google chat: widgets")


def check_webhook(body, headers, raw):
    signature = headers.get("x-sluice-signature-256", "")
    expected = "sha256=" + hmac.new(options.secret.encode(), raw, hashlib.sha256).hexdigest()
    check(hmac.compare_digest(signature, expected), "webhook: bad or missing X-Sluice-Signature-256")
    check(headers.get("x-sluice-event") == body.get("type"), "webhook: X-Sluice-Event differs from the body's type")
    check(headers.get("x-sluice-delivery"), "webhook: no X-Sluice-Delivery")


def check_cloudevents(headers, raw):
    event = from_http(headers, raw)
    check(event["specversion"] == "1.0", "cloudevents: specversion 1.0")
    check(event["type"].startswith("dev.sluice."), "cloudevents: type dev.sluice.*")
    check(event["source"] and event["id"], "cloudevents: source and id")
    data = event.get_data()
    if isinstance(data, (bytes, str)):
        data = json.loads(data)
    check(data["id"] == event["id"], "cloudevents: data.id is the event id")
    return {"ce": {k: event[k] for k in ("id", "source", "type", "specversion")}, "data": data,
            "mode": "structured" if headers.get("content-type", "").startswith("application/cloudevents+json") else "binary"}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        with lock:
            seen["requests"] += 1
            number = seen["requests"]
        if options.sleep:
            time.sleep(options.sleep)
        record = {"n": number, "path": self.path, "headers": headers, "at": time.time()}
        if number <= options.fail_first:
            record["answered"] = 503
            self.answer(503, b"try again", {"Retry-After": "1"}, record)
            return
        try:
            if self.path == "/cloudevents":
                record.update(check_cloudevents(headers, raw))
            else:
                body = json.loads(raw)
                record["body"] = body
                if self.path == "/slack":
                    check_slack(body, headers)
                elif self.path == "/msteams":
                    check_msteams(body, headers)
                elif self.path == "/googlechat":
                    check_googlechat(body, headers)
                elif self.path == "/webhook":
                    check_webhook(body, headers, raw)
                else:
                    raise Invalid(f"no such receiver {self.path}")
            record["valid"] = True
            record["answered"] = 200
            self.answer(200, b"ok", {}, record)
        except Exception as problem:  # every malformed payload is answered and recorded
            record["valid"] = False
            record["problem"] = f"{type(problem).__name__}: {problem}"
            record["answered"] = 400
            self.answer(400, record["problem"].encode(), {}, record)

    def answer(self, status, text, extra, record):
        with lock:
            with open(options.log, "a") as log:
                log.write(json.dumps(record) + "\n")
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
