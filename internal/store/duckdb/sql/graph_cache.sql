-- The service graph's calls counted a bucket of start times at a time (graph_cache.go):
-- derived from the spans, deleted when spans are written within their reach, counted again
-- when next read. "keys" identifies the store.SegmentKeys they were counted with.
CREATE TABLE IF NOT EXISTS graph_buckets (
    keys   BIGINT NOT NULL,
    bucket BIGINT NOT NULL   -- start_ns // the bucket's width
);

CREATE TABLE IF NOT EXISTS graph_calls (
    keys        BIGINT  NOT NULL,
    bucket      BIGINT  NOT NULL,
    caller      VARCHAR NOT NULL,  -- '' for the clients of entry points
    callee      VARCHAR NOT NULL,
    callee_type VARCHAR NOT NULL,
    inferred    BOOLEAN NOT NULL,
    ms          BIGINT  NOT NULL,
    ok          BIGINT  NOT NULL,
    errors      BIGINT  NOT NULL,
    throttles   BIGINT  NOT NULL,
    faults      BIGINT  NOT NULL,
    total       BIGINT  NOT NULL,
    response_ns BIGINT  NOT NULL,
    first_start BIGINT  NOT NULL,
    last_end    BIGINT  NOT NULL
);

-- How many segments of a service have an origin: a caller's type is its most frequent.
CREATE TABLE IF NOT EXISTS graph_origins (
    keys     BIGINT  NOT NULL,
    bucket   BIGINT  NOT NULL,
    service  VARCHAR NOT NULL,
    origin   VARCHAR NOT NULL,
    segments BIGINT  NOT NULL
);
