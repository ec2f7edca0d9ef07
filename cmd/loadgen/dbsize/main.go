// Command dbsize reports how much of a stopped lookout's DuckDB file holds data: DuckDB does not
// shrink its file, so blocks freed by checkpoints stay in it as free blocks, and the file size
// overstates what the data takes. It also lists the columns of the spans table by the storage
// they take. It opens the database read-only, so lookout must not be running on it.
//
//	dbsize [--spans N] DATA_DIR_OR_DUCKDB_FILE
//
// It lives apart from loadgen so that loadgen does not link DuckDB.
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	top := flag.Int("columns", 12, "columns to list, largest first")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: dbsize [--columns N] DATA_DIR_OR_DUCKDB_FILE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *top); err != nil {
		fmt.Fprintln(os.Stderr, "dbsize:", err)
		os.Exit(1)
	}
}

func run(path string, top int) error {
	if st, err := os.Stat(path); err != nil {
		return err
	} else if st.IsDir() {
		path = filepath.Join(path, "lookout.duckdb")
	}
	db, err := sql.Open("duckdb", path+"?access_mode=read_only")
	if err != nil {
		return err
	}
	defer db.Close()
	var (
		name, size, walSize, memUsage, memLimit string
		blockSize, total, used, free            int64
		spans                                   int64
	)
	if err := db.QueryRow("PRAGMA database_size").Scan(&name, &size, &blockSize, &total, &used, &free, &walSize, &memUsage, &memLimit); err != nil {
		return fmt.Errorf("database_size: %w", err)
	}
	if err := db.QueryRow("SELECT count(*) FROM spans").Scan(&spans); err != nil {
		return err
	}
	usedBytes := used * blockSize
	fmt.Printf("  database %s: %s file, %d blocks of %d KiB: %d used (%.1f MiB), %d free\n",
		path, size, total, blockSize>>10, used, float64(usedBytes)/(1<<20), free)
	if spans > 0 {
		fmt.Printf("  %d spans stored: %.1f bytes/span in used blocks\n", spans, float64(usedBytes)/float64(spans))
	}
	rows, err := db.Query(`
		SELECT column_name, count(DISTINCT block_id) AS nblocks, string_agg(DISTINCT compression, ',') AS comp
		FROM pragma_storage_info('spans') WHERE persistent AND block_id >= 0
		GROUP BY column_name ORDER BY nblocks DESC LIMIT ?`, top)
	if err != nil {
		return fmt.Errorf("storage_info: %w", err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var col, comp string
		var blocks int64
		if err := rows.Scan(&col, &blocks, &comp); err != nil {
			return err
		}
		cols = append(cols, fmt.Sprintf("%s %d (%s)", col, blocks, comp))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	fmt.Printf("  spans columns by blocks touched (blocks are shared, so these overlap):\n    %s\n", strings.Join(cols, "\n    "))
	return nil
}
