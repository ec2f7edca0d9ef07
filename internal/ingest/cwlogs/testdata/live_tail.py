"""Follows a log group with boto3's start_live_tail while another thread writes to it.

The host prefix is turned off (Config(inject_host_prefix=False)), as lookout's documentation
tells boto3 users to do. Prints the kinds of the first events and the first message seen.
"""
import json
import sys
import threading
import time

import boto3
import botocore.config

logs = boto3.client("logs", config=botocore.config.Config(inject_host_prefix=False))
logs.create_log_group(logGroupName="py")
logs.create_log_stream(logGroupName="py", logStreamName="s")
response = logs.start_live_tail(logGroupIdentifiers=["py"], logEventFilterPattern="ERROR")


def put():
    time.sleep(0.3)
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="py", logStreamName="s",
                        logEvents=[{"timestamp": now, "message": "INFO skipped"}, {"timestamp": now, "message": "ERROR from python"}])


threading.Thread(target=put).start()
kinds = []
for event in response["responseStream"]:
    kinds.append(next(iter(event)))
    results = event.get("sessionUpdate", {}).get("sessionResults")
    if results:
        json.dump({"first": kinds[0], "messages": [r["message"] for r in results]}, sys.stdout)
        break
    if len(kinds) > 10:
        json.dump({"first": kinds[0], "messages": []}, sys.stdout)
        break
