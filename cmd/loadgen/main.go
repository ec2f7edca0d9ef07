// Command loadgen loads lookout with realistic OTLP/HTTP trace exports and measures what it
// gets back: acknowledged spans a second, request latency, throttling, and (given lookout's
// pid and data directory) its peak memory and bytes on disk per span. It also measures the
// latency of lookout's Jaeger-compatible query API.
//
//	loadgen [ingest] --endpoint http://127.0.0.1:4318 --duration 60s       sustained ingest
//	loadgen [ingest] --total-spans 10000000 --time-spread 1h               fill a store
//	loadgen query --ui http://127.0.0.1:8080 --n 50 --trace-ids FILE        query latency
//	loadgen disk --data DIR --spans N                                       bytes on disk per span
//
// Requests come from a pool of pre-encoded templates whose trace and span ids, times and
// request ids are rewritten in place for each send (template.go), so making a request costs
// a copy, not an encode, and ids never repeat within a run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  loadgen [ingest] [flags]   send OTLP/HTTP trace exports (--duration or --total-spans)
  loadgen query [flags]      measure query API latency
  loadgen disk [flags]       report a data directory's size per span

Run "loadgen ingest -h" or "loadgen query -h" for the flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "ingest"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "ingest":
		o, err := parseIngest(args, stderr)
		if err != nil {
			return err
		}
		return runIngest(ctx, o, stdout, stderr)
	case "query":
		o, err := parseQuery(args, stderr)
		if err != nil {
			return err
		}
		return runQuery(ctx, o, stdout, stderr)
	case "disk":
		fs := flag.NewFlagSet("loadgen disk", flag.ContinueOnError)
		fs.SetOutput(stderr)
		dir := fs.String("data", "", "lookout's data directory")
		spans := fs.Int64("spans", 0, "spans stored, to divide by")
		jsonOut := fs.Bool("json", false, "print the report as JSON")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if *dir == "" {
			return errors.New("--data is required")
		}
		d, err := measureDisk(*dir, *spans)
		if err != nil {
			return err
		}
		if *jsonOut {
			return writeJSON(stdout, d)
		}
		printDisk(stdout, d)
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func parseIngest(args []string, out io.Writer) (ingestOptions, error) {
	o := ingestOptions{}
	fs := flag.NewFlagSet("loadgen ingest", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.endpoint, "endpoint", "http://127.0.0.1:4318", "OTLP/HTTP endpoint; requests go to <endpoint>/v1/traces")
	fs.IntVar(&o.spansPerRequest, "spans-per-request", 500, "spans in each export request")
	fs.IntVar(&o.senders, "senders", 8, "concurrent senders, each with one request in flight")
	fs.DurationVar(&o.duration, "duration", 0, "sustained mode: send for this long")
	fs.Int64Var(&o.totalSpans, "total-spans", 0, "fill mode: send this many spans (rounded up to whole requests)")
	fs.DurationVar(&o.timeSpread, "time-spread", 0, "spread span times over this much of the recent past (0: now)")
	fs.StringVar(&o.spreadOrder, "spread-order", "sequential", "with --time-spread: sequential replays the spread in order over the run; random puts each trace anywhere in it")
	fs.DurationVar(&o.jitter, "jitter", 2*time.Second, "traces in a request end up to this long before it is sent, as in an SDK's batch")
	fs.IntVar(&o.pool, "pool", 64, "distinct request templates")
	seed := fs.Uint64("seed", 0, "seed for the templates and ids (0: from the clock); runs with the same seed send the same ids")
	fs.BoolVar(&o.gzip, "gzip", false, "gzip request bodies (fastest level)")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "timeout of one request")
	fs.IntVar(&o.maxRetries, "max-retries", 5, "retries of a request after errors (throttled requests are retried without limit)")
	fs.IntVar(&o.pid, "pid", 0, "lookout's process id, to report its peak RSS and CPU")
	fs.StringVar(&o.dataDir, "data", "", "lookout's data directory, to report bytes on disk per acknowledged span")
	fs.DurationVar(&o.settle, "settle", 0, "with --data: wait this long after the run before measuring")
	fs.StringVar(&o.traceIDsOut, "trace-ids-out", "", "write the id and span count of one trace of every acknowledged request to this file, for loadgen query --trace-ids")
	fs.BoolVar(&o.jsonOut, "json", false, "print the final report as JSON")
	fs.StringVar(&o.jsonFile, "json-out", "", "also write the final report as JSON to this file")
	fs.BoolVar(&o.dryRun, "dry-run", false, "make requests but do not send them, to measure the generator alone")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.seed = *seed
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	return o, nil
}

func parseQuery(args []string, out io.Writer) (queryOptions, error) {
	o := queryOptions{}
	fs := flag.NewFlagSet("loadgen query", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.ui, "ui", "http://127.0.0.1:8080", "lookout's UI and query API address")
	fs.IntVar(&o.n, "n", 50, "queries of each kind")
	fs.StringVar(&o.traceIDs, "trace-ids", "", "file of trace ids (and their span counts) to fetch, as ingest --trace-ids-out writes; without it ids come from searches")
	fs.StringVar(&o.traceIDs, "trace-ids-from", "", "same as --trace-ids")
	fs.StringVar(&o.lookback, "lookback", "1h", "lookback of the searches")
	fs.IntVar(&o.limit, "limit", 20, "limit of the searches")
	kinds := fs.String("kinds", strings.Join(queryKinds, ","), "query kinds to measure: "+strings.Join(queryKinds, ", "))
	fs.Uint64Var(&o.seed, "seed", 1, "seed for picking services, operations, ids and users")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "timeout of one query")
	fs.DurationVar(&o.wait, "wait", 5*time.Minute, "with --trace-ids: first wait up to this long for the last traces sent to be readable (lookout loads its store behind its acknowledgements); 0 to not wait")
	fs.BoolVar(&o.jsonOut, "json", false, "print the report as JSON")
	fs.StringVar(&o.jsonFile, "json-out", "", "also write the report as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, k := range strings.Split(*kinds, ",") {
		if k = strings.TrimSpace(k); k != "" {
			o.kinds = append(o.kinds, k)
		}
	}
	return o, nil
}
