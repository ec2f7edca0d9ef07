package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"lookout/internal/ingest"
	"lookout/internal/server"
)

// deadLetter lists the dead-letter log: the items the store kept refusing (and ingest log
// records that could not be read back), which lookout set aside rather than let them hold
// back everything behind them.
func deadLetter(args []string, stdout io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("lookout dead-letter", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dir := fs.String("data", envOr(getenv, "LOOKOUT_DATA", server.DefaultConfig().DataDir), "lookout's data directory")
	items := fs.Bool("items", false, "describe every item, not only each entry")
	if err := fs.Parse(args); err != nil {
		return err
	}
	entries := 0
	err := ingest.ReadDeadLetters(server.IngestLogDir(*dir), func(d ingest.DeadLetter) error {
		entries++
		fmt.Fprintf(stdout, "%s  %s, %d items, %d bytes: %s\n", d.Time.UTC().Format(time.RFC3339), d.Signal, len(d.Items), d.Bytes, d.Reason)
		if *items {
			for _, line := range d.Items {
				fmt.Fprintf(stdout, "    %s\n", line)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if entries == 0 {
		fmt.Fprintf(stdout, "nothing was set aside in %s\n", *dir)
	}
	return nil
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
