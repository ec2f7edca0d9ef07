package duckdb

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// statement is one SQL statement's arguments. Every name and value a user gave is bound as an
// argument, never written into the SQL text, and arg is only called for text the statement
// keeps: a statement binds exactly the arguments it uses.
type statement struct {
	args []any
}

// arg binds v and returns its placeholder.
func (st *statement) arg(v any) string {
	st.args = append(st.args, bindable(v))
	return "$" + strconv.Itoa(len(st.args))
}

// bindable makes a value something DuckDB binds: text must be valid UTF-8. Stored text is
// (ingest replaces invalid bytes with U+FFFD), so the same replacement keeps matches exact.
func bindable(v any) any {
	if s, ok := v.(string); ok {
		return validText(s)
	}
	return v
}

func validText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// statementHook, when set (by benchmarks), sees every query statement before it runs.
var statementHook func(text string, args []any)

// scan runs a statement and hands each row to fn as plain values (plainValue).
func (s *Store) scan(ctx context.Context, text string, st *statement, fn func(row []any)) error {
	if statementHook != nil {
		statementHook(text, st.args)
	}
	rows, err := s.db.QueryContext(ctx, text, st.args...)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i := range vals {
			vals[i] = plainValue(vals[i])
		}
		fn(vals)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	return nil
}

// plainValue narrows a driver value to int64, float64, string, bool or nil.
func plainValue(v any) any {
	switch x := v.(type) {
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case int32:
		return int64(x)
	case uint32:
		return int64(x)
	case uint8:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case uint16:
		return int64(x)
	case uint64:
		return int64(x)
	case float32:
		return float64(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	case []byte:
		return string(x)
	}
	return v
}

// combineSQL joins SQL conditions with AND or OR.
func combineSQL(conds []string, or bool) string {
	if len(conds) == 0 {
		return "true"
	}
	op := " AND "
	if or {
		op = " OR "
	}
	return "(" + strings.Join(conds, op) + ")"
}

// prefixed is ", a, b" for columns a and b, "" for none.
func prefixed(cols []string) string {
	if len(cols) == 0 {
		return ""
	}
	return ", " + strings.Join(cols, ", ")
}
