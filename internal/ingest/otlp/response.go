package otlp

import (
	"encoding/json"
	"strconv"

	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// marshalExportResponse encodes an Export{Trace,Logs}ServiceResponse. OTLP requires
// partial_success to be unset on full success, so a full success has no fields at all. Both
// signals' responses have the same fields, under different names in JSON.
func marshalExportResponse(rejected int64, message string, enc Encoding, names *signalNames) []byte {
	if rejected == 0 && message == "" {
		if enc == JSON {
			return []byte("{}")
		}
		return nil
	}
	message = truncate(message, 4096)
	if enc == JSON {
		b := []byte(`{"partialSuccess":{`)
		if rejected != 0 {
			// 64-bit integers are strings in OTLP/JSON.
			b = append(b, `"`+names.rejected+`":"`...)
			b = strconv.AppendInt(b, rejected, 10)
			b = append(b, '"')
		}
		if message != "" {
			if rejected != 0 {
				b = append(b, ',')
			}
			msg, _ := json.Marshal(message) // a string always encodes
			b = append(append(b, `"errorMessage":`...), msg...)
		}
		return append(b, "}}"...)
	}
	var ps []byte
	if rejected != 0 {
		ps = protowire.AppendTag(ps, 1, protowire.VarintType)
		ps = protowire.AppendVarint(ps, uint64(rejected))
	}
	if message != "" {
		ps = protowire.AppendTag(ps, 2, protowire.BytesType)
		ps = protowire.AppendString(ps, message)
	}
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	return protowire.AppendBytes(b, ps)
}

func marshalStatus(st *statuspb.Status, enc Encoding) ([]byte, error) {
	if enc == JSON {
		return protojson.Marshal(st)
	}
	return proto.Marshal(st)
}
