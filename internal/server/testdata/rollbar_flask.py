"""A Flask app whose view lost its return, reporting its error to lookout as pyrollbar's
Flask integration does (pyrollbar itself is not installable here; the payload follows the
captured pyrollbar-flask.json). It serves one request through Flask's test client with a
traceparent header and exits; the Go test checks what lookout made of it.

    LOOKOUT_ENDPOINT=http://127.0.0.1:PORT/api/1/ ROLLBAR_ACCESS_TOKEN=... python3 rollbar_flask.py
"""
import json
import os
import platform
import socket
import sys
import time
import traceback
import urllib.request
import uuid

from flask import Flask, got_request_exception, request

app = Flask(__name__)


@app.route("/api/activities/home")
def data_home():
    results = [{"uuid": "1", "message": "hello"}]
    results  # the return was removed


def frames(tb):
    out = []
    for (f, lineno), summary in zip(traceback.walk_tb(tb), traceback.extract_tb(tb)):
        code = f.f_code
        out.append({
            "filename": code.co_filename, "lineno": lineno, "method": code.co_name, "code": summary.line,
            "argspec": list(code.co_varnames[: code.co_argcount]),
            "locals": {k: repr(v) for k, v in f.f_locals.items()},
        })
    return out


def body(exc):
    chain = []
    while exc is not None:
        chain.append({"frames": frames(exc.__traceback__),
                      "exception": {"class": type(exc).__name__, "message": str(exc)}})
        exc = exc.__cause__ or exc.__context__
    if len(chain) == 1:
        return {"trace": chain[0]}
    return {"trace_chain": chain}


def report_exception(sender, exception, **extra):
    data = {
        "timestamp": int(time.time()),
        "environment": "development",
        "level": "error",
        "language": "python " + platform.python_version(),
        "notifier": {"name": "pyrollbar", "version": "1.4.0-beta"},
        "uuid": str(uuid.uuid4()),
        "framework": "flask",
        "context": str(request.url_rule),
        "body": body(exception),
        "request": {
            "url": request.url, "method": request.method, "GET": request.args.to_dict(),
            "headers": dict(request.headers), "user_ip": request.remote_addr, "route": str(request.url_rule),
        },
        "server": {"host": socket.gethostname(), "pid": os.getpid(), "argv": sys.argv, "root": os.path.dirname(__file__)},
    }
    req = urllib.request.Request(
        os.environ["LOOKOUT_ENDPOINT"] + "item/",
        data=json.dumps({"access_token": os.environ["ROLLBAR_ACCESS_TOKEN"], "data": data}).encode(),
        headers={"Content-Type": "application/json", "X-Rollbar-Access-Token": os.environ["ROLLBAR_ACCESS_TOKEN"]},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        print(json.dumps({"status": resp.status, "answer": json.load(resp)}))


got_request_exception.connect(report_exception, app)

if __name__ == "__main__":
    resp = app.test_client().get("/api/activities/home", headers={
        "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
    print(json.dumps({"browser_status": resp.status_code}))
