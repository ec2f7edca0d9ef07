-- lookout's embedded schema. One row a span; rarely used fields (events, links, dropped
-- counts, scope attributes) travel in the JSON column "extra" so the hot columns stay narrow.
-- A span's attributes are kept as text plus the id of its key set: the list of keys and value
-- kinds, which most spans of an operation share and which is stored once. Frequent keys get
-- a column of their own (attribute columns c0, c1, ..., added by the store; attrcols.go), so
-- that filtering or grouping by them reads one column; the other values are a list.
-- Any attribute can be searched by its text and every value comes back with its type.

CREATE TABLE IF NOT EXISTS spans (
    trace_hi       BIGINT   NOT NULL,
    trace_lo       BIGINT   NOT NULL,
    span_id        BIGINT   NOT NULL,
    parent_id      BIGINT   NOT NULL,  -- 0 for a root span; ids are stored as the signed form of their bits
    start_ns       BIGINT   NOT NULL,  -- unix nanoseconds; rows arrive roughly in this order, so zone maps prune on it
    duration_ns    BIGINT   NOT NULL,
    service        VARCHAR  NOT NULL,
    name           VARCHAR  NOT NULL,
    kind           UTINYINT NOT NULL,
    status_code    UTINYINT NOT NULL,
    status_message VARCHAR,
    trace_state    VARCHAR,
    flags          UINTEGER NOT NULL,
    in_progress    BOOLEAN  NOT NULL,
    sample_rate    UINTEGER NOT NULL,
    resource_id    BIGINT   NOT NULL,  -- resources.id
    scope_name     VARCHAR,
    scope_version  VARCHAR,
    protocol       VARCHAR  NOT NULL,
    dataset        VARCHAR,
    key_id         VARCHAR,
    keyset_id      BIGINT     NOT NULL,  -- keysets.id
    attr_values    VARCHAR[]  NOT NULL,  -- in the order of the key set's list_keys
    extra          VARCHAR              -- JSON, NULL when empty
);

-- The distinct attribute key sets of spans, stored once, like resources: every key with the
-- kind of its value and where the value is, an attribute column (its number in slots) or the
-- attr_values list (slot -1; list_keys and list_kinds are those keys, in list order).
CREATE TABLE IF NOT EXISTS keysets (
    id         BIGINT     NOT NULL,
    hash       BIGINT     NOT NULL,
    keys       VARCHAR[]  NOT NULL,
    kinds      UTINYINT[] NOT NULL,
    slots      SMALLINT[],
    list_keys  VARCHAR[],
    list_kinds UTINYINT[]
);

-- Resources are stored once: "hash" identifies their content, "id" is a small sequential
-- number so that spans.resource_id compresses to a few bits.
CREATE TABLE IF NOT EXISTS resources (
    id          BIGINT  NOT NULL,
    hash        BIGINT  NOT NULL,
    service     VARCHAR NOT NULL,
    dropped     UINTEGER NOT NULL,
    attr_keys   VARCHAR[]  NOT NULL,
    attr_kinds  UTINYINT[] NOT NULL,
    attr_values VARCHAR[]  NOT NULL
);

-- The time span of each trace within each written batch: trace by id reads it first and then
-- scans only the spans table's row groups of that time range.
CREATE TABLE IF NOT EXISTS trace_index (
    trace_hi BIGINT  NOT NULL,
    trace_lo BIGINT  NOT NULL,
    start_ns BIGINT  NOT NULL,
    end_ns   BIGINT  NOT NULL
);

-- The catalogue of service operations, kept at ingest.
CREATE TABLE IF NOT EXISTS operations (
    service VARCHAR  NOT NULL,
    name    VARCHAR  NOT NULL,
    kind    UTINYINT NOT NULL
);

-- Span events and links as Honeycomb events of their own (meta.annotation_type "span_event"
-- or "link"), written with their span, so queries read them without unpacking "extra".
CREATE TABLE IF NOT EXISTS annotations (
    trace_hi    BIGINT   NOT NULL,
    trace_lo    BIGINT   NOT NULL,
    span_id     BIGINT   NOT NULL,  -- the span they belong to
    span_start  BIGINT   NOT NULL,
    time_ns     BIGINT   NOT NULL,  -- the event's time; a link's is its span's start
    type        UTINYINT NOT NULL,  -- 1 span event, 2 link
    name        VARCHAR,            -- the event's name
    parent_name VARCHAR  NOT NULL,
    service     VARCHAR  NOT NULL,
    error       BOOLEAN  NOT NULL,  -- the span has error status
    sample_rate UINTEGER NOT NULL,
    resource_id BIGINT   NOT NULL,
    dataset     VARCHAR,
    link_trace  VARCHAR,
    link_span   VARCHAR,
    attr_keys   VARCHAR[]  NOT NULL,
    attr_kinds  UTINYINT[] NOT NULL,
    attr_values VARCHAR[]  NOT NULL
);

-- Log records (CloudWatch Logs events, OTLP log records), one row each, filed by group and
-- stream. "id" is the ingest pipeline's: the same when a record is written again, so that
-- replays are skipped. Rows arrive roughly in time order, so zone maps prune on time_ns.
-- Bodies are compressed with ZSTD, which DuckDB would not choose itself for lines this short:
-- log lines share most of their text with their neighbours, and ZSTD keeps them in about half
-- the bytes of DuckDB's dictionary and FSST compression.
CREATE TABLE IF NOT EXISTS logs (
    id            UBIGINT  NOT NULL,
    time_ns       BIGINT   NOT NULL,
    observed_ns   BIGINT   NOT NULL,
    log_group     VARCHAR  NOT NULL,
    stream        VARCHAR  NOT NULL,
    severity      UTINYINT NOT NULL,
    severity_text VARCHAR,
    event_name    VARCHAR,
    body_kind     UTINYINT NOT NULL,
    body          VARCHAR  NOT NULL USING COMPRESSION zstd,  -- the body in its lossless text form (Value.Encode)
    trace_hi      BIGINT   NOT NULL,  -- 0, 0 when not correlated with a trace
    trace_lo      BIGINT   NOT NULL,
    span_id       BIGINT   NOT NULL,
    flags         UINTEGER NOT NULL,
    resource_id   BIGINT   NOT NULL,  -- resources.id
    scope_name    VARCHAR,
    scope_version VARCHAR,
    protocol      VARCHAR  NOT NULL,
    dataset       VARCHAR,
    key_id        VARCHAR,
    attr_keys     VARCHAR[]  NOT NULL,
    attr_kinds    UTINYINT[] NOT NULL,
    attr_values   VARCHAR[]  NOT NULL,
    extra         VARCHAR              -- JSON of the rare fields, NULL when empty
);

-- What records that leave these columns out hold (logs.go writes plain records without
-- them). Set here rather than above, so that files made before them get them too.
ALTER TABLE logs ALTER COLUMN severity SET DEFAULT 0;
ALTER TABLE logs ALTER COLUMN flags SET DEFAULT 0;
ALTER TABLE logs ALTER COLUMN attr_keys SET DEFAULT [];
ALTER TABLE logs ALTER COLUMN attr_kinds SET DEFAULT [];
ALTER TABLE logs ALTER COLUMN attr_values SET DEFAULT [];
ALTER TABLE logs ALTER COLUMN body_kind SET DEFAULT 1;  -- text (telemetry.KindString)
ALTER TABLE logs ALTER COLUMN trace_hi SET DEFAULT 0;
ALTER TABLE logs ALTER COLUMN trace_lo SET DEFAULT 0;
ALTER TABLE logs ALTER COLUMN span_id SET DEFAULT 0;

-- Plain text lines without a trace, in blocks (logs_blocks.go): the lines of one stream that
-- one write stored, with what they share and the bounds readers skip by; their data, one zstd
-- frame, is in a file of blocks (logs_blockfiles.go).
CREATE TABLE IF NOT EXISTS log_blocks (
    first_id     UBIGINT NOT NULL,  -- the lowest id of its lines, which names the block
    last_id      UBIGINT NOT NULL,
    first_ns     BIGINT  NOT NULL,  -- the lines' earliest and latest time
    last_ns      BIGINT  NOT NULL,
    last_observed_ns BIGINT NOT NULL,
    log_group    VARCHAR NOT NULL,
    stream       VARCHAR NOT NULL,
    resource_id  BIGINT  NOT NULL,
    protocol     VARCHAR NOT NULL,
    lines        INTEGER NOT NULL,
    bytes        BIGINT  NOT NULL,  -- of the bodies
    file         INTEGER NOT NULL,  -- where the data is
    "offset"     BIGINT  NOT NULL,
    size         INTEGER NOT NULL
);

-- Settings people and clients configure (X-Ray sampling rules and groups): a JSON document
-- under a kind and a name.
CREATE TABLE IF NOT EXISTS settings (
    kind  VARCHAR NOT NULL,
    name  VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    PRIMARY KEY (kind, name)
);

-- Error items (Rollbar's): every occurrence of one error in a project's environment. Few
-- rows, rewritten whole when they change (error_items.sql). Times are unix nanoseconds; 0
-- stands for never.
CREATE TABLE IF NOT EXISTS error_items (
    id                  BIGINT  NOT NULL,
    project             VARCHAR NOT NULL,
    counter             BIGINT  NOT NULL,  -- per project
    environment         VARCHAR NOT NULL,
    fingerprint         VARCHAR NOT NULL,
    grouping            VARCHAR NOT NULL,
    title               VARCHAR NOT NULL,
    level               VARCHAR NOT NULL,
    class               VARCHAR NOT NULL,
    framework           VARCHAR NOT NULL,
    platform            VARCHAR NOT NULL,
    language            VARCHAR NOT NULL,
    status              VARCHAR NOT NULL,
    resolved_in_version VARCHAR NOT NULL,
    assigned_to         VARCHAR NOT NULL,
    title_locked        BOOLEAN NOT NULL,
    level_locked        BOOLEAN NOT NULL,
    total               BIGINT  NOT NULL,
    first_ns            BIGINT  NOT NULL,
    last_ns             BIGINT  NOT NULL,
    first_occurrence    BIGINT  NOT NULL,
    last_occurrence     BIGINT  NOT NULL,
    last_activated_ns   BIGINT  NOT NULL,
    last_resolved_ns    BIGINT  NOT NULL
);

-- Error occurrences, one row each, with the fields items are listed, broken down and linked
-- to traces by; "report" is the report as the client sent it (normalised JSON) with the
-- explanation of its grouping, compressed (reports.go); rows of files made before it have
-- them uncompressed in "data" and "grouping". uuid_hash finds a resent uuid without an
-- index. Rows arrive roughly in time order.
CREATE TABLE IF NOT EXISTS error_occurrences (
    id           BIGINT  NOT NULL,
    item_id      BIGINT  NOT NULL,  -- error_items.id
    project      VARCHAR NOT NULL,
    uuid         VARCHAR NOT NULL,
    uuid_hash    BIGINT  NOT NULL,
    time_ns      BIGINT  NOT NULL,
    received_ns  BIGINT  NOT NULL,
    environment  VARCHAR NOT NULL,
    level        VARCHAR NOT NULL,
    fingerprint  VARCHAR NOT NULL,
    grouping     VARCHAR NOT NULL,
    title        VARCHAR NOT NULL,
    class        VARCHAR NOT NULL,
    code_version VARCHAR NOT NULL,
    framework    VARCHAR NOT NULL,
    platform     VARCHAR NOT NULL,
    language     VARCHAR NOT NULL,
    context      VARCHAR NOT NULL,
    host         VARCHAR NOT NULL,
    person       VARCHAR NOT NULL,
    user_ip      VARCHAR NOT NULL,
    browser      VARCHAR NOT NULL,
    os           VARCHAR NOT NULL,
    trace_hi     BIGINT  NOT NULL,  -- 0, 0 when not linked to a trace
    trace_lo     BIGINT  NOT NULL,
    span_id      BIGINT  NOT NULL,
    protocol     VARCHAR NOT NULL,
    key_id       VARCHAR NOT NULL,
    data         VARCHAR NOT NULL,  -- '' where report holds it, as grouping is
    report       BLOB
);
ALTER TABLE error_occurrences ADD COLUMN IF NOT EXISTS report BLOB;

-- An item's page reads its occurrences alone: an index finds them without a scan of them all
-- (rows arrive in time order, not by item).
CREATE INDEX IF NOT EXISTS error_occurrences_item ON error_occurrences (item_id);

-- Each item's history: new, reactivated, resolved, muted, ...
CREATE TABLE IF NOT EXISTS error_events (
    item_id BIGINT  NOT NULL,
    time_ns BIGINT  NOT NULL,
    kind    VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    by_whom VARCHAR NOT NULL,
    detail  VARCHAR NOT NULL
);

-- When each code version of a project was first seen, which orders versions that have no
-- order of their own (git SHAs).
CREATE TABLE IF NOT EXISTS error_versions (
    project  VARCHAR NOT NULL,
    version  VARCHAR NOT NULL,
    first_ns BIGINT  NOT NULL
);

CREATE TABLE IF NOT EXISTS deploys (
    id             BIGINT  NOT NULL,
    project        VARCHAR NOT NULL,
    environment    VARCHAR NOT NULL,
    revision       VARCHAR NOT NULL,
    local_username VARCHAR NOT NULL,
    rollbar_user   VARCHAR NOT NULL,
    comment        VARCHAR NOT NULL,
    status         VARCHAR NOT NULL,
    start_ns       BIGINT  NOT NULL,
    finish_ns      BIGINT  NOT NULL
);

-- Log groups and streams, as CloudWatch Logs keeps them. A group or stream is created by the
-- API or by the first record that names it; log_streams also keeps what its records span,
-- updated as they are written, so listing streams reads no records.
CREATE TABLE IF NOT EXISTS log_groups (
    name           VARCHAR PRIMARY KEY,
    created_ns     BIGINT  NOT NULL,
    retention_days INTEGER,            -- NULL: records never expire
    tags           VARCHAR,            -- JSON object, NULL when none
    missing_stream VARCHAR,            -- the stream of the latest write refused because it did not exist
    missing_ns     BIGINT
);

CREATE TABLE IF NOT EXISTS log_streams (
    log_group      VARCHAR NOT NULL,
    name           VARCHAR NOT NULL,
    created_ns     BIGINT  NOT NULL,
    first_ns       BIGINT,             -- NULL until it has records
    last_ns        BIGINT,
    last_ingest_ns BIGINT,
    records        BIGINT  NOT NULL,
    stored_bytes   BIGINT  NOT NULL,
    PRIMARY KEY (log_group, name)
);
