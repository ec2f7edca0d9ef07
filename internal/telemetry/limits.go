package telemetry

import "strconv"

// MaxValueDepth is how deeply arrays and maps may nest inside an attribute value or a log
// body. Receivers refuse deeper values before acknowledging them, so that everything the
// write-ahead log holds can be read back.
const MaxValueDepth = 32

// validateDepth reports a value nested deeper than MaxValueDepth; depth is the value's own.
func validateDepth(v Value, depth int) error {
	if depth > MaxValueDepth {
		return errInvalid("a value is nested more than " + strconv.Itoa(MaxValueDepth) + " levels deep")
	}
	for _, e := range v.Array() {
		if err := validateDepth(e, depth+1); err != nil {
			return err
		}
	}
	for _, kv := range v.Map() {
		if err := validateDepth(kv.Value, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// validateAttrDepth checks every value of an attribute list.
func validateAttrDepth(attrs Attributes) error {
	for _, kv := range attrs {
		if kv.Value.Kind() < KindArray {
			continue
		}
		if err := validateDepth(kv.Value, 1); err != nil {
			return err
		}
	}
	return nil
}
