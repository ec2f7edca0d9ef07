"""A small Flask service instrumented with the machine's aws-xray-sdk, as people write one.

lookout's end-to-end test runs it with AWS_XRAY_DAEMON_ADDRESS pointing at lookout's daemon
endpoint and XRAY_API_URL at its X-Ray API. It sends requests through Flask's test client
until one is sampled by lookout's rule (whose name the segment records), and prints one JSON
line per request: {"path": ..., "status": ..., "trace": "Root=..."}.
"""
import json
import os
import sys
import time

import boto3
from aws_xray_sdk.core import patch, xray_recorder
from aws_xray_sdk.ext.flask.middleware import XRayMiddleware
from flask import Flask

patch(["boto3"])
xray_recorder.configure(service="backend-flask", context_missing="LOG_ERROR")

app = Flask(__name__)
XRayMiddleware(app, xray_recorder)

api_url = os.environ["XRAY_API_URL"]


@xray_recorder.capture("mock-data")
def activities():
    with xray_recorder.in_subsegment("query") as sub:
        sub.put_metadata("sql", {"rows": 2})
        return [{"uuid": "68f126b0", "message": "Cloud is fun!"}]


@app.route("/api/activities/home")
def home():
    seg = xray_recorder.current_segment()
    seg.put_annotation("user_handle", "andrewbrown")
    seg.put_metadata("page", {"size": 20}, "cruddur")
    items = activities()
    # An AWS call through botocore: an "aws" subsegment.
    client = boto3.client("xray", endpoint_url=api_url, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    client.get_encryption_config()
    return {"items": items}


@app.route("/api/crash")
def crash():
    raise ValueError("the timeline is empty")


def main():
    client = app.test_client()
    deadline = time.time() + float(sys.argv[1] if len(sys.argv) > 1 else 10)
    while time.time() < deadline:
        for path in ("/api/activities/home", "/api/crash"):
            resp = client.get(path)
            print(json.dumps({"path": path, "status": resp.status_code,
                              "trace": resp.headers.get("X-Amzn-Trace-Id", "")}), flush=True)
        time.sleep(0.2)


if __name__ == "__main__":
    main()
