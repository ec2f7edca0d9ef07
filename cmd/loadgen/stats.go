package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func median(xs []float64) float64 { return quantile(xs, 0.5) }

// quantile returns the q-quantile of xs, interpolating between neighbours.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}

func latencies(ds []time.Duration) latencyReport {
	if len(ds) == 0 {
		return latencyReport{}
	}
	ms := make([]float64, len(ds))
	var sum float64
	for i, d := range ds {
		ms[i] = float64(d) / 1e6
		sum += ms[i]
	}
	return latencyReport{P50: quantile(ms, 0.5), P95: quantile(ms, 0.95), P99: quantile(ms, 0.99), Max: slices.Max(ms), Mean: sum / float64(len(ms))}
}

// group writes n with thousands separators.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + group(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// procSample is what /proc tells of a process.
type procSample struct {
	peakRSS, rss int64 // bytes
	cpu          time.Duration
}

func sampleProc(pid int) (procSample, error) {
	var p procSample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmHWM":
			p.peakRSS = kb << 10
		case "VmRSS":
			p.rss = kb << 10
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces: state is
	// field 3, utime and stime are fields 14 and 15, in clock ticks (100 a second on Linux).
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 {
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 12 {
			ut, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			p.cpu = time.Duration(ut+st) * 10 * time.Millisecond
		}
	}
	return p, nil
}

// diskReport is the size of a data directory. lookout acknowledges spans once they are in
// its ingest log (ingest-log/), loads them into DuckDB, whose own write-ahead log
// (lookout.duckdb.wal) holds recent writes until a checkpoint folds them into the database
// file (lookout.duckdb), where they take less room; the checkpoint also trims the ingest log.
// So the database file after a checkpoint (lookout checkpoints every 30s and on shutdown) is
// the figure for the long run.
type diskReport struct {
	Dir            string      `json:"dir"`
	Bytes          int64       `json:"bytes"`           // apparent size of all files
	AllocatedBytes int64       `json:"allocated_bytes"` // blocks on disk (du)
	DBBytes        int64       `json:"db_bytes"`        // *.duckdb
	WALBytes       int64       `json:"db_wal_bytes"`    // DuckDB's *.wal
	IngestLogBytes int64       `json:"ingest_log_bytes"`
	OtherBytes     int64       `json:"other_bytes"`
	Spans          int64       `json:"spans"`
	BytesPerSpan   float64     `json:"bytes_per_span"` // Bytes / Spans
	Files          []diskEntry `json:"files"`
}

type diskEntry struct {
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
}

func measureDisk(dir string, spans int64) (*diskReport, error) {
	d := &diskReport{Dir: dir, Spans: spans}
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			if os.IsNotExist(err) { // a WAL removed by a checkpoint while we walk
				return nil
			}
			return err
		}
		size := info.Size()
		d.Bytes += size
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			d.AllocatedBytes += st.Blocks * 512
		}
		rel, _ := filepath.Rel(dir, path)
		d.Files = append(d.Files, diskEntry{rel, size})
		switch {
		case strings.HasPrefix(rel, "ingest-log"+string(filepath.Separator)):
			d.IngestLogBytes += size
		case strings.HasSuffix(path, ".wal"):
			d.WALBytes += size
		case strings.HasSuffix(path, ".duckdb"):
			d.DBBytes += size
		default:
			d.OtherBytes += size
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if spans > 0 {
		d.BytesPerSpan = float64(d.Bytes) / float64(spans)
	}
	return d, nil
}

func printDisk(w io.Writer, d *diskReport) {
	perSpan := func(b int64) string {
		if d.Spans == 0 {
			return ""
		}
		return fmt.Sprintf(" = %.1f bytes/span", float64(b)/float64(d.Spans))
	}
	fmt.Fprintf(w, "  data on disk        %s: %.1f MiB%s (allocated %.1f MiB%s)\n", d.Dir, mib(d.Bytes), perSpan(d.Bytes), mib(d.AllocatedBytes), perSpan(d.AllocatedBytes))
	fmt.Fprintf(w, "                      database file %.1f MiB%s, DuckDB WAL %.1f MiB, ingest log %.1f MiB, other %.1f MiB\n",
		mib(d.DBBytes), perSpan(d.DBBytes), mib(d.WALBytes), mib(d.IngestLogBytes), mib(d.OtherBytes))
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeJSONFile writes v as JSON to path, if path is not empty.
func writeJSONFile(path string, v any) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := writeJSON(f, v); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
