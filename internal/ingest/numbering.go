package ingest

import "lookout/internal/ingest/wal"

// Items of a signal with a Number function (log records) get ids from a counter of their
// Input, taken as each record is logged: consecutive in the order of the log, and so in
// the order the loader stores them, which column stores keep in almost no space. Replays
// read the ids back from the records.
//
// A run numbers from firstID(the log's next position) on, above every id an earlier run
// gave: records of earlier versions were numbered below (position+1) << positionShift,
// and a run that starts at position p numbers fewer than 2^positionShift items for each
// record it logs (a record holds far fewer, and so do the few requests the pipeline admits
// at once), so its ids stay below the next run's start, (p + the records it logged) <<
// positionShift.
const positionShift = 24

// firstID is the first id of a run whose log's next position is next.
func firstID(next wal.Position) uint64 {
	return uint64(next) << positionShift
}
