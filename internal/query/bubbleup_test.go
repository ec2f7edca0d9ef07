package query

import (
	"math"
	"testing"
)

func TestRankCategories(t *testing.T) {
	fields := []FieldCounts{
		{Field: "route", Distinct: 2, Values: []ValueCount{{"/slow", 8, 10}, {"/fast", 2, 90}}},
		{Field: "host", Distinct: 2, Values: []ValueCount{{"h1", 5, 50}, {"h2", 5, 50}}},
		{Field: "rare", Distinct: 1, Values: []ValueCount{{"x", 1, 0}}},
		// Few distinct numbers are categories, whatever the cells say.
		{Field: "http.status_code", Distinct: 2, Numeric: true, Values: []ValueCount{{"500", 6, 5}, {"200", 4, 95}},
			CellExp: 1, Cells: []CellCount{{20, 4, 95}, {50, 6, 5}}},
	}
	bu := Rank(fields, 10, 100)
	order := []string{"route", "http.status_code", "rare", "host"}
	for i, name := range order {
		if bu.Fields[i].Field != name {
			t.Fatalf("order %v, want %v", bu.Fields, order)
		}
	}
	// route: /slow is 80% of the selection and 10% of the baseline.
	if r := bu.Fields[0]; math.Abs(r.Score-0.7) > 1e-12 || r.Numeric {
		t.Errorf("route: %+v", r)
	}
	// The status codes: 500 is 60% of the selection and 5% of the baseline.
	codes := bu.Fields[1]
	if codes.Numeric || len(codes.Values) != 2 || codes.Values[1].Value != "500" || codes.Values[1].Selected != 0.6 || codes.Values[1].Baseline != 0.05 {
		t.Errorf("status codes: %+v", codes)
	}
	// rare: 10% of the selection has it, none of the baseline; missing counts too (90% vs 100%).
	if r := bu.Fields[2]; r.Score < 0.0999 || r.Score > 0.1001 {
		t.Errorf("rare: %+v", r)
	}
}

func TestRankRanges(t *testing.T) {
	// 45 cells of 0.1 from 0.3 to 4.7, one event in each, the selection's above 4: ranges of
	// 0.5 (a round width giving at most 16 ranges) from 0 to 5.
	var cells []CellCount
	for c := int64(3); c <= 47; c++ {
		cc := CellCount{Cell: c, Baseline: 1}
		if c >= 40 {
			cc = CellCount{Cell: c, Selected: 1}
		}
		cells = append(cells, cc)
	}
	bu := Rank([]FieldCounts{{Field: "latency", Distinct: 45, Numeric: true, CellExp: -1, Cells: cells}}, 8, 37)
	f := bu.Fields[0]
	if !f.Numeric || len(f.Values) != 10 {
		t.Fatalf("latency: %+v", f)
	}
	for i, v := range f.Values {
		if lo, hi := float64(i)*5/10, float64(i+1)*5/10; *v.Lower != lo || *v.Upper != hi {
			t.Errorf("range %d: [%v, %v), want [%v, %v)", i, *v.Lower, *v.Upper, lo, hi)
		}
	}
	// [4, 4.5) holds 5 of the selection's 8 events, [4.5, 5) the other 3.
	if last := f.Values[9]; last.Selected != 3.0/8 || f.Values[8].Selected != 5.0/8 || f.Values[0].Baseline != 2.0/37 {
		t.Errorf("shares: %+v %+v %+v", f.Values[0], f.Values[8], last)
	}
	// Cells -11 to 150: ranges of 10 would be 18, of 20 are 9; negative cells round down.
	neg := ranges([]CellCount{{Cell: -11}, {Cell: 150}}, 0)
	if len(neg) != 2 || *neg[0].Lower != -20 || *neg[0].Upper != 0 || *neg[1].Lower != 140 || *neg[1].Upper != 160 {
		t.Errorf("negative: [%v, %v) [%v, %v)", *neg[0].Lower, *neg[0].Upper, *neg[1].Lower, *neg[1].Upper)
	}
	// Cells 0 to 159 of 100: 16 ranges of 1000.
	if r := ranges([]CellCount{{Cell: 0}, {Cell: 159}}, 2); *r[1].Lower != 15000 || *r[1].Upper != 16000 {
		t.Errorf("wide: [%v, %v)", *r[1].Lower, *r[1].Upper)
	}
}
