// Package telemetry is lookout's domain: the spans, span events, links, log records and the
// typed attribute values that every receiver decodes into and every store persists.
//
// It is the one model shared by all wire formats. An OpenTelemetry span, an X-Ray segment
// and a Honeycomb event all become a Span; their format-specific details (X-Ray annotations,
// Honeycomb sample rates, in-progress segments) have a place here rather than in side tables,
// so that a trace mixing them reads as one.
//
// The package imports only the standard library.
package telemetry
