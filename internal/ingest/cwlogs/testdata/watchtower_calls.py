"""The calls watchtower 3.4 makes, in its order, with the machine's boto3; then reads back.

watchtower itself is not installed here, so this follows its code path by path:
CloudWatchLogHandler.__init__ (DescribeLogGroups paginated by prefix, CreateLogGroup, STS
GetCallerIdentity and TagResource for log_group_tags, PutRetentionPolicy) and _submit_batch
(PutLogEvents; on ResourceNotFoundException CreateLogStream and PutLogEvents again).
Prints one JSON document of what it saw. Environment: AWS_ENDPOINT_URL (global, so that STS
comes to lookout too), AWS keys, AWS_DEFAULT_REGION.
"""
import json
import logging
import os
import platform
import sys
import time

import boto3
import botocore.exceptions

GROUP = "cruddur"
STREAM = "{}/{}/{}/{}".format(platform.node(), "/usr/local/bin/flask", "app", os.getpid())
seen = {"calls": []}


def note(call, result):
    seen["calls"].append([call, result])


logs = boto3.client("logs")
sts = boto3.client("sts")

# __init__: _ensure_log_group
found = False
for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=GROUP):
    note("DescribeLogGroups", [g["logGroupName"] for g in page.get("logGroups", [])])
    if any(g["logGroupName"] == GROUP for g in page.get("logGroups", [])):
        found = True
        break
if not found:
    try:
        logs.create_log_group(logGroupName=GROUP)
        note("CreateLogGroup", "ok")
    except (logs.exceptions.ResourceAlreadyExistsException, logs.exceptions.OperationAbortedException):
        note("CreateLogGroup", "exists")

# log_group_tags
account = sts.get_caller_identity()["Account"]
note("GetCallerIdentity", account)
region = logs.meta.region_name
logs.tag_resource(resourceArn=f"arn:aws:logs:{region}:{account}:log-group:{GROUP}", tags={"app": "cruddur"})
note("TagResource", "ok")

# log_group_retention_days
logs.put_retention_policy(logGroupName=GROUP, retentionInDays=7)
note("PutRetentionPolicy", "ok")

# The bootcamp's after_request line, formatted as the handler's formatter would.
record = logging.LogRecord("app", logging.ERROR, __file__, 1, "%s %s %s %s %s %s",
                           (time.strftime("[%Y-%b-%d %H:%M]"), "172.18.0.1", "GET", "http", "/api/activities/home?", "200 OK"), None)
messages = [record.getMessage(), json.dumps({"level": "ERROR", "path": "/api/activities/home", "status": 500,
                                             "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})]
events = [{"timestamp": int(record.created * 1000) + i, "message": m} for i, m in enumerate(messages)]

# _submit_batch
events.sort(key=lambda e: e["timestamp"])
kwargs = dict(logGroupName=GROUP, logStreamName=STREAM, logEvents=events)
for attempt in range(5):
    try:
        response = logs.put_log_events(**kwargs)
        note("PutLogEvents", "rejected" if "rejectedLogEventsInfo" in response else "ok")
        break
    except logs.exceptions.ResourceNotFoundException as e:
        note("PutLogEvents", e.response["Error"]["Code"])
        try:
            logs.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)
            note("CreateLogStream", "ok")
        except logs.exceptions.ResourceAlreadyExistsException:
            note("CreateLogStream", "exists")
        kwargs.pop("sequenceToken", None)
    except botocore.exceptions.ClientError as e:
        note("PutLogEvents", e.response["Error"]["Code"])

# Reading back, waiting for the events to be loaded.
deadline = time.time() + 10
while True:
    got = logs.get_log_events(logGroupName=GROUP, logStreamName=STREAM, startFromHead=True)
    if len(got["events"]) >= len(events) or time.time() > deadline:
        break
    time.sleep(0.05)
seen["stream"] = STREAM
seen["sent"] = events
seen["got"] = [[e["timestamp"], e["message"]] for e in got["events"]]
seen["filtered"] = [e["message"] for e in logs.filter_log_events(logGroupName=GROUP, filterPattern="{ $.status >= 500 }")["events"]]
seen["filtered_terms"] = [e["message"] for e in logs.filter_log_events(logGroupName=GROUP, filterPattern='"GET http" ?nothing')["events"]]
query = logs.start_query(logGroupName=GROUP, startTime=int(time.time()) - 3600, endTime=int(time.time()) + 60,
                         queryString="fields @message | filter status >= 500")
while True:
    result = logs.get_query_results(queryId=query["queryId"])
    if result["status"] not in ("Scheduled", "Running"):
        break
    time.sleep(0.05)
seen["query"] = {"status": result["status"], "messages": [f["value"] for row in result["results"] for f in row if f["field"] == "@message"]}
seen["group"] = logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]
seen["tags"] = logs.list_tags_log_group(logGroupName=GROUP)["tags"]
json.dump(seen, sys.stdout)
